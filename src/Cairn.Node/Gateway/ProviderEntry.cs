using Cairn.Node.Rpc;
using Grpc.Net.Client;

namespace Cairn.Node.Gateway;

/// <summary>What the gateway knows of one provider: its announcement, its health and its live load.</summary>
public sealed class ProviderEntry(RegisterRequest announcement, GrpcChannel channel, DateTimeOffset now)
{
    private int _active;

    public string Id { get; } = announcement.ProviderId;
    public RegisterRequest Announcement { get; private set; } = announcement;
    public GrpcChannel Channel { get; private set; } = channel;
    public Rpc.Provider.ProviderClient Client { get; private set; } = new(channel);
    public DateTimeOffset LastSeen { get; set; } = now;
    /// <summary>Set when a call to the provider failed; cleared by its next heartbeat.</summary>
    public DateTimeOffset? FailedAt { get; set; }
    /// <summary>Why an answer of this provider was refused (its receipt did not hold); once set, it is never routed to again.</summary>
    public string? Refused { get; set; }
    public int Active => Volatile.Read(ref _active);
    public long Served;
    public long Failures;

    /// <summary>Whether the provider serves the whole model (not only a pipeline stage of it, see Pipeline/PipelineChain).</summary>
    /// <summary>
    /// Whether this provider announces the whole model <paramref name="model"/> names (<c>base</c> or
    /// <c>base+adapter…</c>: it must announce every adapter — providers load adapter files themselves, the network never
    /// sends them). Routing and the choice of validators both go through here.
    /// A private model or adapter (DESIGN.md §7) is served only by the providers its author allowed
    /// (<see cref="Allowed"/>, the registry's <c>ContributionRegistry.IsAllowed</c>).
    /// </summary>
    public bool Serves(string model) => Resolve(model) is { } r && AllowedToServe(r.Model, r.Adapters);

    /// <summary>The registry's check, set by the directory: may this provider serve the contribution with this file hash?</summary>
    public Func<Protocol.Crypto.Hash256, string, bool>? Allowed { get; init; }

    /// <summary>The announced model and adapter hashes <paramref name="model"/> names, or null.</summary>
    public (ModelInfo Model, Protocol.Crypto.Hash256[] Adapters)? Resolve(string model) => ModelWithAdapters.Resolve(Announcement.Models, model);

    /// <summary>The registry's allowed-provider filter for private models and adapters (issue 9), for the base model and every adapter.</summary>
    private bool AllowedToServe(ModelInfo model, Protocol.Crypto.Hash256[] adapters)
    {
        if (Allowed is null) return true;
        if (model.Hash.Length == Protocol.Crypto.Hash256.Size && !Allowed(new Protocol.Crypto.Hash256(model.Hash.Span), Id)) return false;
        foreach (var adapter in adapters)
        {
            if (!Allowed(adapter, Id)) return false;
        }
        return true;
    }

    public void Replace(RegisterRequest announcement, GrpcChannel channel)
    {
        Announcement = announcement;
        Channel = channel;
        Client = new Rpc.Provider.ProviderClient(channel);
    }

    public void Begin() => Interlocked.Increment(ref _active);
    public void End() => Interlocked.Decrement(ref _active);
}
