using Cairn.Ledger.Economics;
using Cairn.Ledger.Storage;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Messages;

namespace Cairn.Ledger.Contributions;

/// <summary>
/// The registered models and adapters as a gateway consults them on every request (docs/contributions.md): who may
/// serve a contribution, and who is paid royalties from a settled fee. Keyed by file SHA-256, the hash requests name.
/// Entries are immutable once registered, so they are cached; the cache is reloaded from the ledger when a lookup misses
/// and the journal has grown since the last load (a model published while the gateway runs is found). Thread-safe.
/// </summary>
public sealed class ContributionRegistry(ILedgerStore store)
{
    private readonly Lock _gate = new();
    private Dictionary<Hash256, ContributionEntry> _byFile = [];
    private long _loadedAt = -1;

    /// <summary>The contribution registered for <paramref name="fileSha256"/>, or null.</summary>
    public ContributionEntry? Find(Hash256 fileSha256)
    {
        lock (_gate)
        {
            if (_byFile.TryGetValue(fileSha256, out var entry)) return entry;
            long head = store.ReadHead().Sequence;
            if (head == _loadedAt) return null;
            _byFile = store.ReadContributions().Select(c => c.Entry).ToDictionary(e => e.FileSha256);
            _loadedAt = head;
            return _byFile.GetValueOrDefault(fileSha256);
        }
    }

    /// <summary>
    /// Whether <paramref name="provider"/> may serve the model or adapter whose file SHA-256 is
    /// <paramref name="contribution"/>: true for an unregistered file and for a public contribution; for a private one,
    /// only when the provider is in its allowed set.
    /// </summary>
    public bool IsAllowed(Hash256 contribution, Address provider) => Find(contribution) is not { } entry || entry.Allows(provider);

    /// <summary>
    /// The parties of a settlement for a request that used <paramref name="model"/> and <paramref name="adapters"/>:
    /// when the model (registered as a model) or any adapter (registered as an adapter) is registered, their royalty
    /// shares (<see cref="SettlementParties.Royalties"/>: each its own bps to <c>royalty:&lt;payout&gt;</c>, the
    /// provider the rest); when none is, the provider alone with the ledger's fee split (unregistered models pay no royalty).
    /// </summary>
    public SettlementParties PartiesFor(Address provider, Hash256 model, IReadOnlyList<Hash256> adapters)
    {
        var royalties = new List<RoyaltyShare>();
        if (Find(model) is { Kind: ContributionKind.Model } m) royalties.Add(new RoyaltyShare(m.Payout, m.RoyaltyBps, m.FileSha256));
        foreach (var hash in adapters)
        {
            if (Find(hash) is { Kind: ContributionKind.Adapter } a) royalties.Add(new RoyaltyShare(a.Payout, a.RoyaltyBps, a.FileSha256));
        }
        return royalties.Count == 0 ? new SettlementParties(provider) : new SettlementParties(provider) { Royalties = royalties };
    }
}
