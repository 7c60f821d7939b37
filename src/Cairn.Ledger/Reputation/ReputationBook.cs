using System.Collections.Concurrent;

namespace Cairn.Ledger.Reputation;

/// <summary>Reputations by provider id, safe to update and read from many threads (the gateway's router reads them).</summary>
public sealed class ReputationBook
{
    private readonly ConcurrentDictionary<string, ProviderReputation> _byProvider = new(StringComparer.Ordinal);

    public ProviderReputation For(string provider) => _byProvider.GetOrAdd(provider, _ => new ProviderReputation());

    public void RecordRequest(string provider, bool success, TimeSpan elapsed, int tokens)
    {
        var r = For(provider);
        lock (r) r.RecordRequest(success, elapsed, tokens);
    }

    public void RecordChallenge(string provider, bool passed)
    {
        var r = For(provider);
        lock (r) r.RecordChallenge(passed);
    }

    public void RecordHeartbeatInterval(string provider, bool seen)
    {
        var r = For(provider);
        lock (r) r.RecordHeartbeatInterval(seen);
    }

    public double Score(string provider)
    {
        var r = For(provider);
        lock (r) return r.Score;
    }

    public IReadOnlyDictionary<string, ProviderReputation> All => _byProvider;
}
