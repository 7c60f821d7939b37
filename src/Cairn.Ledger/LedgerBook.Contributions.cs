using Cairn.Ledger.Journal;
using Cairn.Ledger.Storage;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Messages;

namespace Cairn.Ledger;

public sealed partial class LedgerBook
{
    /// <summary>Entry id of a contribution's registration: <c>contribution/&lt;message hash&gt;</c>.</summary>
    public static string ContributionId(Hash256 entryHash) => "contribution/" + entryHash;

    /// <summary>
    /// Registers a base model or a LoRA adapter (docs/contributions.md): one <see cref="EntryKind.ContributionPublished"/>
    /// entry (no postings; authorization = <see cref="ContributionEntry.Hash"/>) and the signed message's bytes in
    /// <c>ledger_contributions</c>, in one transaction. Refused, with nothing written: an entry that breaks the message's
    /// rules (<see cref="LedgerErrors.InvalidContribution"/>, e.g. royalty above 10,000 bps); a royalty that leaves less
    /// than the network's shares (<see cref="LedgerErrors.RoyaltyTooHigh"/>; an adapter's counts with its base model's);
    /// an unsigned entry or one not signed by its publisher (<see cref="LedgerErrors.WrongPublisher"/>); an adapter whose
    /// base model is not registered (<see cref="LedgerErrors.UnknownBaseModel"/>); a file or a name already registered by
    /// another entry (<see cref="LedgerErrors.DuplicateContribution"/>). Publishing the same entry again is a no-op.
    /// </summary>
    public LedgerResult Publish(ContributionEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.Check() is { } problem) return LedgerResult.Fail(LedgerErrors.InvalidContribution, problem);
        var signature = entry.Verify();
        if (!signature.IsValid) return LedgerResult.Fail(LedgerErrors.WrongPublisher, signature.Message);
        int max = MaxRoyaltyBps(Options.FeeSplit);
        if (entry.RoyaltyBps > max)
            return LedgerResult.Fail(LedgerErrors.RoyaltyTooHigh, $"royalty {entry.RoyaltyBps} bps is more than the {max} bps the validator pool and the treasury leave of a fee");
        var hash = entry.Hash();
        string id = ContributionId(hash);
        return Store.Write(tx =>
        {
            var result = AppendChecked(tx, id, BuildPublication(tx, entry, hash, max));
            if (result.IsOk && !result.Replayed) tx.RecordContribution(result.Sequence, entry);
            return result;
        });
    }

    private static Draft BuildPublication(ILedgerTransaction tx, ContributionEntry entry, Hash256 hash, int maxBps)
    {
        if (entry.Kind == ContributionKind.Adapter)
        {
            if (tx.FindContributionByFile(entry.BaseModel) is not { } stored || stored.Entry is not { Kind: ContributionKind.Model } baseModel)
                return Failure(LedgerErrors.UnknownBaseModel, $"adapter \"{entry.Name}\" targets base model {entry.BaseModel}, which is not registered as a model; publish the model first");
            if (baseModel.RoyaltyBps + entry.RoyaltyBps > maxBps)
                return Failure(LedgerErrors.RoyaltyTooHigh, $"royalty {entry.RoyaltyBps} bps plus the base model's {baseModel.RoyaltyBps} bps is more than the {maxBps} bps the validator pool and the treasury leave of a fee");
        }
        if (tx.FindContributionByFile(entry.FileSha256) is { } sameFile && sameFile.Hash != hash)
            return Failure(LedgerErrors.DuplicateContribution, $"file {entry.FileSha256} is already registered by entry {sameFile.Hash} (#{sameFile.Sequence}) with other content");
        if (tx.FindContributionByName(entry.Kind, entry.Name) is { } sameName && sameName.Hash != hash)
            return Failure(LedgerErrors.DuplicateContribution, $"{KindName(entry.Kind)} name \"{entry.Name}\" is already registered by entry {sameName.Hash} (#{sameName.Sequence})");
        return Build(EntryKind.ContributionPublished, hash, entry.Publisher.ToString(), PublicationReference(entry));
    }

    /// <summary>The reference of a publication entry: <c>model:NAME</c> or <c>adapter:NAME</c>.</summary>
    public static string PublicationReference(ContributionEntry entry) => KindName(entry.Kind) + ":" + entry.Name;

    internal static string KindName(ContributionKind kind) => kind == ContributionKind.Model ? "model" : "adapter";

    /// <summary>The contribution registered for a file SHA-256 (what requests name), or null.</summary>
    public StoredContribution? FindContribution(Hash256 fileSha256) =>
        Store.ReadContributions().FirstOrDefault(c => c.Entry.FileSha256 == fileSha256);

    /// <summary>The contribution whose message hash, file SHA-256 or (for <paramref name="kind"/>) name is <paramref name="key"/>, or null.</summary>
    public StoredContribution? FindContribution(string key, ContributionKind kind) =>
        Store.ReadContributions().FirstOrDefault(c =>
        {
            var e = c.Entry;
            return (e.Kind == kind && e.Name == key) || string.Equals(c.Hash.ToString(), key, StringComparison.OrdinalIgnoreCase) ||
                string.Equals(e.FileSha256.ToString(), key, StringComparison.OrdinalIgnoreCase);
        });

    /// <summary>Every registered contribution of <paramref name="kind"/> (all kinds when null), in journal order.</summary>
    public IReadOnlyList<StoredContribution> ListContributions(ContributionKind? kind = null) =>
        [.. Store.ReadContributions().Where(c => kind is null || c.Entry.Kind == kind)];
}
