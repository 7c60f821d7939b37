using System.Runtime.CompilerServices;

namespace Cairn.Protocol.Crypto;

/// <summary>A 32-byte digest (Keccak-256 or SHA-256) held by value. Text form: 64 lowercase hex digits, no prefix.</summary>
public readonly struct Hash256 : IEquatable<Hash256>
{
    public const int Size = 32;

    [InlineArray(Size)]
    private struct Storage
    {
        private byte _element0;
    }

    private readonly Storage _bytes;

    public Hash256(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size) throw new ArgumentException($"a 32-byte hash was expected, got {bytes.Length} bytes", nameof(bytes));
        bytes.CopyTo(_bytes);
    }

    public static Hash256 Zero => default;

    public bool IsZero => ((ReadOnlySpan<byte>)_bytes).IndexOfAnyExcept((byte)0) < 0;

    public byte[] ToArray() => ((ReadOnlySpan<byte>)_bytes).ToArray();

    public void CopyTo(Span<byte> destination) => ((ReadOnlySpan<byte>)_bytes).CopyTo(destination);

    /// <summary>Parses 64 hex digits, with or without a leading "0x".</summary>
    public static Hash256 Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        ReadOnlySpan<char> hex = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text.AsSpan(2) : text;
        if (hex.Length != 2 * Size || !IsHex(hex)) throw new FormatException($"a hash is {2 * Size} hex digits; got \"{text}\"");
        return new Hash256(Convert.FromHexString(hex));
    }

    public bool Equals(Hash256 other) => ((ReadOnlySpan<byte>)_bytes).SequenceEqual(other._bytes);

    public override bool Equals(object? obj) => obj is Hash256 h && Equals(h);

    public override int GetHashCode() => BitConverter.ToInt32(_bytes);

    public override string ToString() => Convert.ToHexStringLower(_bytes);

    public static bool operator ==(Hash256 a, Hash256 b) => a.Equals(b);

    public static bool operator !=(Hash256 a, Hash256 b) => !a.Equals(b);

    internal static bool IsHex(ReadOnlySpan<char> s) => !s.ContainsAnyExcept("0123456789abcdefABCDEF");
}
