using System.Security.Cryptography;
using Cairn.Engine.Commitments;

namespace Cairn.Engine.Tests.Commitments;

public sealed class MerkleTreeTests
{
    private static byte[] Leaf(int i) => SHA256.HashData(BitConverter.GetBytes(i));
    private static byte[] H(params byte[][] parts) => SHA256.HashData(parts.SelectMany(p => p).ToArray());

    [Fact]
    public void Root_follows_the_documented_construction()
    {
        byte[] a = Leaf(1), b = Leaf(2), c = Leaf(3);
        byte[] na = H([0], a), nb = H([0], b), nc = H([0], c);
        Assert.Equal(na, MerkleTree.Root([a]));
        Assert.Equal(H([1], na, nb), MerkleTree.Root([a, b]));
        Assert.Equal(H([1], H([1], na, nb), nc), MerkleTree.Root([a, b, c])); // the odd node is promoted
        Assert.Equal(SHA256.HashData([]), MerkleTree.Root([]));
    }

    [Fact]
    public void Any_change_of_order_or_content_changes_the_root()
    {
        var leaves = Enumerable.Range(0, 7).Select(Leaf).ToList();
        byte[] root = MerkleTree.Root(leaves);
        var swapped = leaves.ToList();
        (swapped[2], swapped[3]) = (swapped[3], swapped[2]);
        Assert.NotEqual(root, MerkleTree.Root(swapped));
        Assert.NotEqual(root, MerkleTree.Root(leaves.Take(6).ToList()));
        var duplicated = leaves.Append(leaves[^1]).ToList();
        Assert.NotEqual(root, MerkleTree.Root(duplicated));
    }

    [Fact]
    public void Output_commitment_binds_tokens_and_trace_root()
    {
        byte[] root = Leaf(5);
        byte[] c = OutputCommitment.Compute([1, 2, 3], root);
        Assert.Equal(H([3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0], root), c);
        Assert.NotEqual(c, OutputCommitment.Compute([1, 2], root));
        Assert.NotEqual(c, OutputCommitment.Compute([1, 2, 3], Leaf(6)));
    }
}

public sealed class CanonicalFloatsTests
{
    [Fact]
    public void Every_NaN_payload_hashes_as_the_canonical_quiet_NaN()
    {
        float a = BitConverter.UInt32BitsToSingle(0xFFC00000), b = BitConverter.UInt32BitsToSingle(0x7F800001), c = BitConverter.UInt32BitsToSingle(0x7FC12345);
        byte[] x = CanonicalFloats.Bytes([1f, a, 2f]).ToArray(), y = CanonicalFloats.Bytes([1f, b, 2f]).ToArray(), z = CanonicalFloats.Bytes([1f, c, 2f]).ToArray();
        Assert.Equal(x, y);
        Assert.Equal(x, z);
        Assert.Equal(0x7FC00000u, BitConverter.ToUInt32(x, 4));
        Assert.Equal(BitConverter.GetBytes(-0f), CanonicalFloats.Bytes([-0f]).ToArray()); // only NaNs change
    }
}
