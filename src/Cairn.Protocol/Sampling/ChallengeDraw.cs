using System.Numerics;
using Cairn.Protocol.Crypto;

namespace Cairn.Protocol.Sampling;

/// <summary>
/// The challenge draw of Proof of Sampling (DESIGN.md §4.1). At the start of an epoch the gateway publishes
/// <c>Keccak256(secret)</c>; a receipt is challenged iff <c>Keccak256(secret ‖ receiptHash) &lt; p · 2^256</c>, where the
/// digest is read as a big-endian 256-bit unsigned integer and <c>p = ppm / 1 000 000</c>. The comparison is exact:
/// <c>digest · 1 000 000 &lt; ppm · 2^256</c> in arbitrary-precision integers, so no float or rounding enters it and any
/// auditor reaches the same answer once the secret is revealed at the epoch's end. Pure: no I/O, no clock, no randomness
/// that is not handed in.
/// </summary>
public static class ChallengeDraw
{
    /// <summary><c>Keccak256(secret)</c>, published before the epoch's first receipt.</summary>
    public static Hash256 Commit(ReadOnlySpan<byte> secret)
    {
        if (secret.Length != Hash256.Size) throw new ArgumentException($"an epoch secret is {Hash256.Size} bytes, got {secret.Length}", nameof(secret));
        return Keccak256.Hash(secret);
    }

    /// <summary>True iff <paramref name="revealed"/> is the secret behind <paramref name="commitment"/>.</summary>
    public static bool VerifyReveal(Hash256 commitment, ReadOnlySpan<byte> revealed) =>
        revealed.Length == Hash256.Size && Keccak256.Hash(revealed) == commitment;

    /// <summary>The draw value <c>Keccak256(secret ‖ receiptHash)</c>.</summary>
    public static Hash256 DrawValue(ReadOnlySpan<byte> secret, Hash256 receiptHash)
    {
        if (secret.Length != Hash256.Size) throw new ArgumentException($"an epoch secret is {Hash256.Size} bytes, got {secret.Length}", nameof(secret));
        Span<byte> buffer = stackalloc byte[2 * Hash256.Size];
        secret.CopyTo(buffer);
        receiptHash.CopyTo(buffer[Hash256.Size..]);
        return Keccak256.Hash(buffer);
    }

    /// <summary>Whether the receipt with hash <paramref name="receiptHash"/> is challenged at probability <paramref name="p"/>.</summary>
    public static bool IsChallenged(ReadOnlySpan<byte> secret, Hash256 receiptHash, Probability p) =>
        IsBelow(DrawValue(secret, receiptHash), p);

    /// <summary>Exact test <c>value &lt; p · 2^256</c>, i.e. <c>value · 10^6 &lt; ppm · 2^256</c>.</summary>
    public static bool IsBelow(Hash256 value, Probability p)
    {
        var v = ToUInt256(value);
        return v * Probability.Scale < new BigInteger(p.PartsPerMillion) << 256;
    }

    /// <summary>The hash as a big-endian unsigned 256-bit integer.</summary>
    public static BigInteger ToUInt256(Hash256 value)
    {
        Span<byte> bytes = stackalloc byte[Hash256.Size];
        value.CopyTo(bytes);
        return new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
    }
}

/// <summary>
/// A probability in parts per million (0 to 1 000 000): 1% is 10 000, 0.01% is 100. An integer so that every party
/// computes the same threshold; text form is a decimal fraction ("0.05") or a percentage ("5%").
/// </summary>
public readonly record struct Probability
{
    public const uint Scale = 1_000_000;

    public Probability(uint partsPerMillion)
    {
        if (partsPerMillion > Scale) throw new ArgumentOutOfRangeException(nameof(partsPerMillion), $"a probability is at most {Scale} parts per million, got {partsPerMillion}");
        PartsPerMillion = partsPerMillion;
    }

    public uint PartsPerMillion { get; }

    public static Probability Zero => new(0);
    public static Probability One => new(Scale);
    public static Probability FromPercent(decimal percent) => Parse($"{percent.ToString(System.Globalization.CultureInfo.InvariantCulture)}%");

    /// <summary>"0.05", "5%", "0.0125" — exactly representable in parts per million, or an error.</summary>
    public static Probability Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        bool percent = t.EndsWith('%');
        if (percent) t = t[..^1];
        if (!decimal.TryParse(t, System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out var value))
            throw new FormatException($"\"{text}\" is not a probability (write 0.05 or 5%)");
        var ppm = value * (percent ? 10_000m : 1_000_000m);
        if (ppm != decimal.Truncate(ppm)) throw new FormatException($"\"{text}\" is finer than one part per million");
        if (ppm > Scale) throw new FormatException($"\"{text}\" is more than 1");
        return new Probability((uint)ppm);
    }

    public decimal AsDecimal => PartsPerMillion / 1_000_000m;

    public override string ToString() => $"{(PartsPerMillion / 10_000m).ToString("0.####", System.Globalization.CultureInfo.InvariantCulture)}%";
}
