using System.Security.Cryptography;

namespace Cairn.Engine.Commitments;

/// <summary>
/// Binary SHA-256 Merkle tree with domain separation (RFC 6962 style): a leaf node is <c>SHA-256(0x00 ‖ leaf)</c>,
/// an inner node <c>SHA-256(0x01 ‖ left ‖ right)</c>; an odd node at the end of a level is promoted unchanged
/// (no duplication, so two different leaf lists never share a root). The root of no leaves is <c>SHA-256("")</c>.
/// </summary>
public static class MerkleTree
{
    public const int HashSize = 32;

    public static byte[] Root(IReadOnlyList<byte[]> leaves)
    {
        if (leaves.Count == 0) return SHA256.HashData(ReadOnlySpan<byte>.Empty);
        var level = new List<byte[]>(leaves.Count);
        Span<byte> buffer = stackalloc byte[1 + 2 * HashSize];
        foreach (var leaf in leaves)
        {
            if (leaf.Length != HashSize) throw new ArgumentException("Merkle leaves are 32-byte hashes", nameof(leaves));
            buffer[0] = 0;
            leaf.CopyTo(buffer[1..]);
            level.Add(SHA256.HashData(buffer[..(1 + HashSize)]));
        }
        while (level.Count > 1)
        {
            var next = new List<byte[]>((level.Count + 1) / 2);
            for (int i = 0; i + 1 < level.Count; i += 2)
            {
                buffer[0] = 1;
                level[i].CopyTo(buffer[1..]);
                level[i + 1].CopyTo(buffer[(1 + HashSize)..]);
                next.Add(SHA256.HashData(buffer));
            }
            if (level.Count % 2 == 1) next.Add(level[^1]);
            level = next;
        }
        return level[0];
    }
}
