using Cairn.Node.Rpc;
using Grpc.Net.Client;

namespace Cairn.Node.Gateway;

/// <summary>
/// The providers a gateway knows, their health, and the routing choice. A provider is healthy while its heartbeats
/// arrive (at most <see cref="HeartbeatTimeout"/> apart) and no call to it has failed since its last heartbeat. A provider
/// whose receipt did not hold (wrong signature, wrong counts) is refused for good: heartbeats and re-registration do not clear it.
/// Routing picks, among healthy and eligible providers with the model, the one with the least expected wait weighted by
/// reputation: (active requests + 1) / (measured decode speed × reputation score), then the lower price, then the id.
/// </summary>
public sealed class ProviderDirectory(TimeProvider time)
{
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromMilliseconds(500);
    public static readonly TimeSpan HeartbeatTimeout = TimeSpan.FromSeconds(2);

    private readonly Dictionary<string, ProviderEntry> _providers = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public event Action<string>? ProviderLost;

    /// <summary>Reputations of the providers, updated by the request handler and the health monitor.</summary>
    public Cairn.Ledger.Reputation.ReputationBook Reputation { get; } = new();

    /// <summary>Whether a provider may receive work (the ledger: stake at least the minimum); all may when unset.</summary>
    public Func<string, bool>? Eligible { get; init; }
    /// <summary>Whether the provider (by id) may serve the model or adapter (by file hash): the registry's allowed set for private contributions; null allows all.</summary>
    public Func<Protocol.Crypto.Hash256, string, bool>? Allowed { get; init; }

    public ProviderEntry Register(RegisterRequest request)
    {
        var channel = GrpcChannel.ForAddress(request.Endpoint, new GrpcChannelOptions { MaxReceiveMessageSize = 64 << 20 }); // dispute traces can be large (ProviderService.MaxTraceReplyBytes)
        lock (_gate)
        {
            if (_providers.TryGetValue(request.ProviderId, out var existing))
            {
                var old = existing.Channel;
                existing.Replace(request, channel);
                existing.LastSeen = time.GetUtcNow();
                existing.FailedAt = null;
                old.Dispose();
                return existing;
            }
            var entry = new ProviderEntry(request, channel, time.GetUtcNow()) { Allowed = Allowed };
            _providers.Add(request.ProviderId, entry);
            return entry;
        }
    }

    public bool Heartbeat(string providerId)
    {
        lock (_gate)
        {
            if (!_providers.TryGetValue(providerId, out var p)) return false;
            p.LastSeen = time.GetUtcNow();
            p.FailedAt = null;
            return true;
        }
    }

    /// <param name="misbehaviour">Why the provider's answer was refused, if it was (then it is never routed to again); null for a failure.</param>
    public void MarkFailed(ProviderEntry p, string? misbehaviour = null)
    {
        p.FailedAt = time.GetUtcNow();
        if (misbehaviour != null) p.Refused ??= misbehaviour;
        Interlocked.Increment(ref p.Failures);
        ProviderLost?.Invoke(p.Id);
    }

    public bool IsHealthy(ProviderEntry p) => p.Refused is null && p.FailedAt is null && time.GetUtcNow() - p.LastSeen <= HeartbeatTimeout;

    public IReadOnlyList<ProviderEntry> All()
    {
        lock (_gate) return _providers.Values.ToList();
    }

    public IReadOnlyList<ProviderEntry> Healthy() => All().Where(IsHealthy).ToList();

    /// <summary>Model names (and hashes) served by at least one healthy provider.</summary>
    public IReadOnlyList<ModelInfo> Models() =>
        Healthy().SelectMany(p => p.Announcement.Models).GroupBy(m => m.Name).Select(g => g.First()).OrderBy(m => m.Name, StringComparer.Ordinal).ToList();

    /// <summary>
    /// What <c>GET /v1/models</c> lists: every model a healthy provider serves whole or in stages, and <c>base+adapter</c>
    /// for every adapter a healthy provider announces on a whole model.
    /// </summary>
    public IReadOnlyList<string> ModelIds() =>
        Models().Select(m => m.Name)
            .Concat(Healthy().SelectMany(p => p.Announcement.Models).Where(m => m.LayerEnd == 0).SelectMany(m => m.Adapters.Select(a => m.Name + "+" + a.Name)))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>The best healthy provider for <paramref name="model"/>, skipping <paramref name="exclude"/>; null if none.</summary>
    public ProviderEntry? Choose(string model, IReadOnlySet<string> exclude) =>
        Healthy().Where(p => p.Serves(model) && !exclude.Contains(p.Id) && (Eligible?.Invoke(p.Id) ?? true))
            .OrderBy(p => (p.Active + 1) / (Math.Max(p.Announcement.DecodeTokS, 1e-3) * Math.Max(Reputation.Score(p.Id), 0.01)))
            .ThenBy(p => p.Announcement.PricePerToken)
            .ThenBy(p => p.Id, StringComparer.Ordinal)
            .FirstOrDefault();
}
