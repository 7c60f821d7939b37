using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Cairn.Protocol.Crypto;

namespace Cairn.Protocol.Identity;

/// <summary>
/// An Ethereum-style account address: the last 20 bytes of Keccak-256 over the 64-byte uncompressed public key
/// (x ‖ y, without the 0x04 prefix). Text form: "0x" and 40 hex digits in EIP-55 mixed-case checksum form.
/// </summary>
public readonly struct Address : IEquatable<Address>
{
    public const int Size = 20;

    [InlineArray(Size)]
    private struct Storage
    {
        private byte _element0;
    }

    private readonly Storage _bytes;

    public Address(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size) throw new ArgumentException($"an address is {Size} bytes, got {bytes.Length}", nameof(bytes));
        bytes.CopyTo(_bytes);
    }

    public static Address Zero => default;

    public bool IsZero => ((ReadOnlySpan<byte>)_bytes).IndexOfAnyExcept((byte)0) < 0;

    /// <summary>The address of a 64-byte public key (x ‖ y) or a 65-byte one that starts with 0x04.</summary>
    public static Address FromPublicKey(ReadOnlySpan<byte> publicKey)
    {
        if (publicKey.Length == 65 && publicKey[0] == 0x04) publicKey = publicKey[1..];
        if (publicKey.Length != 64) throw new ArgumentException($"an uncompressed public key is 64 bytes (or 65 with 0x04), got {publicKey.Length}", nameof(publicKey));
        Span<byte> hash = stackalloc byte[Keccak256.HashSize];
        Keccak256.Hash(publicKey, hash);
        return new Address(hash[^Size..]);
    }

    public byte[] ToArray() => ((ReadOnlySpan<byte>)_bytes).ToArray();

    public void CopyTo(Span<byte> destination) => ((ReadOnlySpan<byte>)_bytes).CopyTo(destination);

    /// <summary>The EIP-55 checksummed form, e.g. <c>0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F</c>.</summary>
    public override string ToString()
    {
        string lower = Convert.ToHexStringLower(_bytes);
        Span<byte> hash = stackalloc byte[Keccak256.HashSize];
        Keccak256.Hash(System.Text.Encoding.ASCII.GetBytes(lower), hash);
        Span<char> text = stackalloc char[2 + 2 * Size];
        text[0] = '0';
        text[1] = 'x';
        for (int i = 0; i < lower.Length; i++)
        {
            int nibble = (i & 1) == 0 ? hash[i / 2] >> 4 : hash[i / 2] & 0x0f;
            char c = lower[i];
            text[2 + i] = c >= 'a' && nibble >= 8 ? (char)(c - 32) : c;
        }
        return new string(text);
    }

    /// <summary>
    /// Parses "0x" and 40 hex digits. Mixed case must be a correct EIP-55 checksum; all-lowercase or all-uppercase
    /// digits carry no checksum and are accepted unless <paramref name="requireChecksum"/> is set.
    /// </summary>
    public static Address Parse(string text, bool requireChecksum = false) =>
        TryParse(text, out var address, out string? error, requireChecksum) ? address : throw new FormatException(error);

    public static bool TryParse(string? text, out Address address, [NotNullWhen(false)] out string? error, bool requireChecksum = false)
    {
        address = default;
        if (text is null || text.Length != 2 + 2 * Size || !text.StartsWith("0x", StringComparison.Ordinal) || !Hash256.IsHex(text.AsSpan(2)))
        {
            error = $"an address is \"0x\" followed by {2 * Size} hex digits; got \"{text}\"";
            return false;
        }
        var candidate = new Address(Convert.FromHexString(text.AsSpan(2)));
        ReadOnlySpan<char> digits = text.AsSpan(2);
        bool hasLower = digits.ContainsAnyInRange('a', 'f');
        bool hasUpper = digits.ContainsAnyInRange('A', 'F');
        bool mixed = hasLower && hasUpper;
        if ((mixed || requireChecksum) && !string.Equals(candidate.ToString(), text, StringComparison.Ordinal))
        {
            error = $"address {text} fails its EIP-55 checksum (expected {candidate})";
            return false;
        }
        address = candidate;
        error = null;
        return true;
    }

    public bool Equals(Address other) => ((ReadOnlySpan<byte>)_bytes).SequenceEqual(other._bytes);

    public override bool Equals(object? obj) => obj is Address a && Equals(a);

    public override int GetHashCode() => BitConverter.ToInt32(_bytes);

    public static bool operator ==(Address a, Address b) => a.Equals(b);

    public static bool operator !=(Address a, Address b) => !a.Equals(b);
}
