using System.Security.Cryptography;
using Cairn.Protocol.Crypto;

namespace Cairn.Protocol.Sampling;

/// <summary>
/// The engine's Merkle rule (Cairn.Engine.Commitments.MerkleTree, DESIGN.md §3 rule 7), re-implemented here because
/// Protocol references nothing of ours: SHA-256, leaf node <c>SHA-256(0x00 ‖ leaf)</c>, inner node
/// <c>SHA-256(0x01 ‖ left ‖ right)</c>, an odd last node promoted unchanged, the root of no leaves <c>SHA-256("")</c>.
/// A test in Cairn.Engine.Tests holds the two to the same roots.
/// </summary>
public static class TraceMerkle
{
    public static Hash256 Root(IReadOnlyList<Hash256> leaves)
    {
        if (leaves.Count == 0) return new Hash256(SHA256.HashData(ReadOnlySpan<byte>.Empty));
        var level = new List<Hash256>(leaves.Count);
        Span<byte> buffer = stackalloc byte[1 + 2 * Hash256.Size];
        Span<byte> digest = stackalloc byte[Hash256.Size];
        foreach (var leaf in leaves)
        {
            buffer[0] = 0;
            leaf.CopyTo(buffer[1..]);
            SHA256.HashData(buffer[..(1 + Hash256.Size)], digest);
            level.Add(new Hash256(digest));
        }
        while (level.Count > 1)
        {
            var next = new List<Hash256>((level.Count + 1) / 2);
            for (int i = 0; i + 1 < level.Count; i += 2)
            {
                buffer[0] = 1;
                level[i].CopyTo(buffer[1..]);
                level[i + 1].CopyTo(buffer[(1 + Hash256.Size)..]);
                SHA256.HashData(buffer, digest);
                next.Add(new Hash256(digest));
            }
            if (level.Count % 2 == 1) next.Add(level[^1]);
            level = next;
        }
        return level[0];
    }
}
