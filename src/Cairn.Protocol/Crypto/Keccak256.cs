using Org.BouncyCastle.Crypto.Digests;

namespace Cairn.Protocol.Crypto;

/// <summary>
/// Ethereum's Keccak-256: the original Keccak submission with its 0x01 padding, as used for addresses, transaction
/// hashes and <c>ecrecover</c>. It is NOT FIPS 202 SHA3-256 (padding 0x06), whose digests differ:
/// Keccak-256("") = c5d24601…5d85a470, SHA3-256("") = a7ffc6f8…f8434a.
/// </summary>
public static class Keccak256
{
    public const int HashSize = 32;

    public static Hash256 Hash(ReadOnlySpan<byte> data)
    {
        Span<byte> digest = stackalloc byte[HashSize];
        Hash(data, digest);
        return new Hash256(digest);
    }

    public static void Hash(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        if (destination.Length < HashSize) throw new ArgumentException($"destination holds {destination.Length} bytes; a Keccak-256 digest is {HashSize}", nameof(destination));
        var digest = new KeccakDigest(256);
        digest.BlockUpdate(data);
        digest.DoFinal(destination);
    }
}
