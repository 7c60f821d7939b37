using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Cairn.Engine.Commitments;

/// <summary>
/// The output commitment of a request (DESIGN.md §3 rule 7): <c>SHA-256(u32 count ‖ u32 token ids… ‖ trace root)</c>,
/// integers little-endian, over the generated token ids.
/// </summary>
public static class OutputCommitment
{
    public static byte[] Compute(ReadOnlySpan<int> tokens, ReadOnlySpan<byte> traceRoot)
    {
        if (traceRoot.Length != MerkleTree.HashSize) throw new ArgumentException("the trace root is a 32-byte hash", nameof(traceRoot));
        var buffer = new byte[4 + 4 * tokens.Length + MerkleTree.HashSize];
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)tokens.Length);
        for (int i = 0; i < tokens.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(4 + 4 * i), tokens[i]);
        traceRoot.CopyTo(buffer.AsSpan(4 + 4 * tokens.Length));
        return SHA256.HashData(buffer);
    }
}
