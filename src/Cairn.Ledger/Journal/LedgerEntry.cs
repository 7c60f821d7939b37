using Cairn.Protocol.Crypto;
using Cairn.Protocol.Encoding;

namespace Cairn.Ledger.Journal;

/// <summary>
/// One journal entry, before or after it is placed in the chain. Canonical encodings (docs/ledger.md), version 1:
/// <code>
/// content = u8 18 ‖ "cairn.ledger.entry" ‖ u8 1
///           id string(≤100)   kind u8   authorization 32   subject string(≤128)   reference string(≤128)
///           postings u32 count ‖ (account string(≤128) ‖ amount i64 as u64 LE)*
/// link    = u8 17 ‖ "cairn.ledger.link" ‖ u8 1
///           sequence u64   epoch u64   unlock_epoch u64   previous 32   Keccak-256(content) 32
/// </code>
/// <see cref="ContentHash"/> = Keccak-256(content) is what idempotency compares: re-applying an id is a no-op when it
/// is equal, an error otherwise. The entry's hash, chained through <c>previous</c>, is Keccak-256(link); it also covers
/// where and when the entry landed (sequence, epoch, and the unlock epoch an unbonding was given).
/// </summary>
public sealed class LedgerEntry
{
    public const string ContentDomain = "cairn.ledger.entry";
    public const string LinkDomain = "cairn.ledger.link";
    public const byte Version = 1;

    public required string Id { get; init; }
    public required EntryKind Kind { get; init; }
    /// <summary>Hash of the signed message that authorizes the entry (a receipt, a request, a deposit proof, slashing evidence, an epoch's Merkle root).</summary>
    public required Hash256 Authorization { get; init; }
    /// <summary>The party the entry is about (a client or provider address), or empty.</summary>
    public string Subject { get; init; } = "";
    /// <summary>A hold id (holds, settlements, releases) or an epoch number (epoch close), or empty.</summary>
    public string Reference { get; init; } = "";
    public required IReadOnlyList<Posting> Postings { get; init; }

    // Chain placement: set when the entry is appended.
    public long Sequence { get; init; }
    public long Epoch { get; init; }
    /// <summary>For <see cref="EntryKind.Unbond"/>: the first epoch in which the stake may be withdrawn; 0 otherwise.</summary>
    public long UnlockEpoch { get; init; }
    public Hash256 Previous { get; init; }
    /// <summary>As stored; <see cref="ComputeHash"/> recomputes it.</summary>
    public Hash256 Hash { get; init; }

    public byte[] EncodeContent()
    {
        var w = new CanonicalWriter(128 + 64 * Postings.Count);
        w.WriteDomain(ContentDomain, Version);
        w.WriteString(Id, LedgerIds.MaxLength, "id");
        w.WriteU8((byte)Kind);
        w.WriteHash(Authorization);
        w.WriteString(Subject, Accounts.Account.MaxLength, "subject");
        w.WriteString(Reference, Accounts.Account.MaxLength, "reference");
        w.WriteCount(Postings.Count, "postings");
        foreach (var p in Postings)
        {
            w.WriteString(p.Account, Accounts.Account.MaxLength, "account");
            w.WriteU64(unchecked((ulong)p.Amount));
        }
        return w.ToArray();
    }

    public Hash256 ContentHash() => Keccak256.Hash(EncodeContent());

    public static Hash256 Link(long sequence, long epoch, long unlockEpoch, Hash256 previous, Hash256 contentHash)
    {
        var w = new CanonicalWriter(128);
        w.WriteDomain(LinkDomain, Version);
        w.WriteU64((ulong)sequence);
        w.WriteU64((ulong)epoch);
        w.WriteU64((ulong)unlockEpoch);
        w.WriteHash(previous);
        w.WriteHash(contentHash);
        return Keccak256.Hash(w.WrittenSpan);
    }

    public Hash256 ComputeHash() => Link(Sequence, Epoch, UnlockEpoch, Previous, ContentHash());

    /// <summary>This entry placed after <paramref name="previous"/> at <paramref name="sequence"/>, with its hash.</summary>
    public LedgerEntry Seal(long sequence, long epoch, Hash256 previous, long unlockEpoch = 0)
    {
        var placed = new LedgerEntry
        {
            Id = Id,
            Kind = Kind,
            Authorization = Authorization,
            Subject = Subject,
            Reference = Reference,
            Postings = Postings,
            Sequence = sequence,
            Epoch = epoch,
            UnlockEpoch = unlockEpoch,
            Previous = previous,
        };
        return new LedgerEntry
        {
            Id = Id,
            Kind = Kind,
            Authorization = Authorization,
            Subject = Subject,
            Reference = Reference,
            Postings = Postings,
            Sequence = sequence,
            Epoch = epoch,
            UnlockEpoch = unlockEpoch,
            Previous = previous,
            Hash = placed.ComputeHash(),
        };
    }
}
