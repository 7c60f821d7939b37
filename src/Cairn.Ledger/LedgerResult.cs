using System.Diagnostics.CodeAnalysis;
using Cairn.Protocol.Crypto;

namespace Cairn.Ledger;

/// <summary>
/// The outcome of a ledger operation: applied (a new entry at <see cref="Sequence"/>), replayed (the same id with the
/// same content was applied before: nothing written, <see cref="Sequence"/> is the original), or failed with a stable
/// <see cref="LedgerErrors"/> code and nothing written.
/// </summary>
public readonly record struct LedgerResult
{
    private LedgerResult(string? code, string? message, long sequence, Hash256 hash, bool replayed)
    {
        Code = code;
        Message = message;
        Sequence = sequence;
        EntryHash = hash;
        Replayed = replayed;
    }

    /// <summary>One of <see cref="LedgerErrors"/>, or null on success.</summary>
    public string? Code { get; }
    public string? Message { get; }
    /// <summary>The journal position of the entry (1-based); 0 on failure.</summary>
    public long Sequence { get; }
    /// <summary>The entry's chained hash; zero on failure.</summary>
    public Hash256 EntryHash { get; }
    /// <summary>True when the id had already been applied with identical content, so nothing new was written.</summary>
    public bool Replayed { get; }

    [MemberNotNullWhen(false, nameof(Code), nameof(Message))]
    public bool IsOk => Code is null;

    public static LedgerResult Applied(long sequence, Hash256 hash) => new(null, null, sequence, hash, false);

    public static LedgerResult Replay(long sequence, Hash256 hash) => new(null, null, sequence, hash, true);

    public static LedgerResult Fail(string code, string message) => new(code, message, 0, default, false);

    public override string ToString() => IsOk ? (Replayed ? $"replayed #{Sequence}" : $"applied #{Sequence}") : $"{Code}: {Message}";
}
