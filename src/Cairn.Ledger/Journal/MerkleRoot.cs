using Cairn.Protocol.Crypto;

namespace Cairn.Ledger.Journal;

/// <summary>
/// The Merkle root recorded when an epoch closes: leaves are the epoch's entry hashes in journal order; each level
/// hashes adjacent pairs as Keccak-256(0x01 ‖ left ‖ right) and carries an odd last node up unchanged; one leaf is its
/// own root; no leaves give the zero hash. (Leaves are already Keccak-256 outputs of a domain-tagged encoding, and
/// inner nodes are prefixed with 0x01, so a leaf can never pass for an inner node.)
/// </summary>
public static class MerkleRoot
{
    public static Hash256 Compute(IReadOnlyList<Hash256> leaves)
    {
        if (leaves.Count == 0) return Hash256.Zero;
        var level = leaves.ToArray();
        Span<byte> pair = stackalloc byte[1 + 2 * Hash256.Size];
        pair[0] = 0x01;
        while (level.Length > 1)
        {
            var next = new Hash256[(level.Length + 1) / 2];
            for (int i = 0; i < next.Length; i++)
            {
                if (2 * i + 1 == level.Length) { next[i] = level[2 * i]; continue; }
                level[2 * i].CopyTo(pair[1..]);
                level[2 * i + 1].CopyTo(pair[(1 + Hash256.Size)..]);
                next[i] = Keccak256.Hash(pair);
            }
            level = next;
        }
        return level[0];
    }
}
