using Cairn.Protocol.Crypto;

namespace Cairn.Ledger.Storage;

/// <summary>The end of the chain: the last entry's sequence (0 when empty) and hash, and the epoch now open.</summary>
public readonly record struct LedgerHead(long Sequence, Hash256 Hash, long Epoch);

/// <summary>An account's balance in the projection.</summary>
public readonly record struct AccountBalance(string Account, long Balance);

/// <summary>A hold in the projection: who placed it, how much, and the sequence of the entry that closed it (null while open).</summary>
public readonly record struct HoldRecord(string HoldId, string Client, long Amount, long? ClosedBy);

/// <summary>A closed epoch: the Merkle root of its entries (the close entry itself excluded) and the close entry's sequence.</summary>
public readonly record struct EpochRecord(long Epoch, Hash256 Root, long CloseSequence);

/// <summary>What idempotency needs to know about an id already in the journal.</summary>
public readonly record struct StoredEntry(long Sequence, Hash256 ContentHash, Hash256 Hash);

/// <summary>
/// A registered contribution in the <c>ledger_contributions</c> projection: the sequence of its
/// <c>ContributionPublished</c> entry, the entry's authorization (the message's hash) and the signed message's
/// canonical bytes (<c>ContributionEntry.Encode()</c>).
/// </summary>
public sealed record StoredContribution(long Sequence, Hash256 Hash, byte[] Message)
{
    /// <summary>The message, decoded (the bytes were checked when they were written; <c>ledger verify</c> checks them again).</summary>
    public Cairn.Protocol.Messages.ContributionEntry Entry => Cairn.Protocol.Messages.ContributionEntry.Decode(Message);
}
