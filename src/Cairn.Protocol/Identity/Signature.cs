using System.Runtime.CompilerServices;

namespace Cairn.Protocol.Identity;

/// <summary>
/// A 65-byte recoverable secp256k1 ECDSA signature as Ethereum writes it: <c>r (32, big-endian) ‖ s (32, big-endian) ‖ v</c>
/// with <c>v = 27 + recovery id</c> (27 or 28, what Solidity's <c>ecrecover</c> takes). Cairn only produces and accepts
/// low-s signatures (EIP-2), so each message has exactly one valid signature per key. All zeros means "unsigned".
/// </summary>
public readonly struct Signature : IEquatable<Signature>
{
    public const int Size = 65;

    [InlineArray(Size)]
    private struct Storage
    {
        private byte _element0;
    }

    private readonly Storage _bytes;

    public Signature(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size) throw new ArgumentException($"a signature is {Size} bytes, got {bytes.Length}", nameof(bytes));
        bytes.CopyTo(_bytes);
    }

    public static Signature Empty => default;

    public bool IsEmpty => ((ReadOnlySpan<byte>)_bytes).IndexOfAnyExcept((byte)0) < 0;

    public byte V => _bytes[64];

    public byte[] ToArray() => ((ReadOnlySpan<byte>)_bytes).ToArray();

    public void CopyTo(Span<byte> destination) => ((ReadOnlySpan<byte>)_bytes).CopyTo(destination);

    public static Signature Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        ReadOnlySpan<char> hex = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text.AsSpan(2) : text;
        if (hex.Length != 2 * Size || !Crypto.Hash256.IsHex(hex)) throw new FormatException($"a signature is {2 * Size} hex digits; got {text.Length} characters");
        return new Signature(Convert.FromHexString(hex));
    }

    public bool Equals(Signature other) => ((ReadOnlySpan<byte>)_bytes).SequenceEqual(other._bytes);

    public override bool Equals(object? obj) => obj is Signature s && Equals(s);

    public override int GetHashCode() => BitConverter.ToInt32(_bytes);

    /// <summary>"0x" and 130 lowercase hex digits.</summary>
    public override string ToString() => "0x" + Convert.ToHexStringLower(_bytes);

    public static bool operator ==(Signature a, Signature b) => a.Equals(b);

    public static bool operator !=(Signature a, Signature b) => !a.Equals(b);
}
