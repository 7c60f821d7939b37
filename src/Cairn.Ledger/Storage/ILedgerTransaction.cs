using Cairn.Ledger.Journal;
using Cairn.Protocol.Crypto;

namespace Cairn.Ledger.Storage;

/// <summary>
/// One write transaction, holding the ledger's single writer lock (so the chain has one order and no balance can be
/// overdrawn by two writers at once). Reads see everything committed before it and its own appends.
/// </summary>
public interface ILedgerTransaction
{
    LedgerHead Head { get; }

    /// <summary>The account's balance, or null when the account has never been posted to.</summary>
    long? Balance(string account);

    StoredEntry? FindEntry(string id);

    HoldRecord? FindHold(string holdId);

    /// <summary>Sum of the provider's unbondings whose unlock epoch is after <paramref name="epoch"/>.</summary>
    long PendingUnbonding(string unbondingAccount, long epoch);

    /// <summary>Accounts whose name starts with <paramref name="prefix"/>, in ordinal order.</summary>
    IReadOnlyList<AccountBalance> BalancesWithPrefix(string prefix);

    /// <summary>Hashes of the entries of <paramref name="epoch"/>, in journal order.</summary>
    IReadOnlyList<Hash256> EntryHashes(long epoch);

    /// <summary>The contribution registered for this file SHA-256, or null.</summary>
    StoredContribution? FindContributionByFile(Hash256 fileSha256);

    /// <summary>The contribution of this kind registered under this name, or null.</summary>
    StoredContribution? FindContributionByName(Cairn.Protocol.Messages.ContributionKind kind, string name);

    /// <summary>
    /// Records the signed message of a <see cref="EntryKind.ContributionPublished"/> entry just appended at
    /// <paramref name="sequence"/> (in <c>ledger_contributions</c>), in the same transaction.
    /// </summary>
    void RecordContribution(long sequence, Cairn.Protocol.Messages.ContributionEntry entry);

    /// <summary>
    /// Appends a sealed entry (its sequence must be Head.Sequence + 1 and its previous hash Head.Hash) and updates the
    /// projection: balances, holds (a Hold opens its reference, Settle and Release close it), epochs (EpochClose
    /// records its authorization as the root and opens the next epoch), head.
    /// </summary>
    void Append(LedgerEntry entry);
}
