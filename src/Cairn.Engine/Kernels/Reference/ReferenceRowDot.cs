using System.Buffers.Binary;
using Cairn.Engine.Kernels.Blocks;
using Cairn.Engine.Tensors;

namespace Cairn.Engine.Kernels.Reference;

/// <summary>
/// Dot product of one weight row with an activation vector; the spec of <see cref="RowDot.Compute"/>.
/// <para>F32, F16, BF16 weights: converted exactly to f32, then <see cref="ReferenceDot"/>'s 16-lane order.</para>
/// <para>Q8_0, Q4_K, Q6_K weights (Q4_0: below) against the Q8 activation of <see cref="ActivationQuantizer"/>: for each
/// 32-element block b of the row, in increasing b:</para>
/// <list type="number">
/// <item>8 exact int32 partial sums P_j = Σ_{k=4j..4j+3} wq_k * xq_k (j = 0..7), wq the block's integer weight:
/// Q8_0 q; Q4_K q (0..15); Q6_K q - 32.</item>
/// <item>A per-lane f32 scale s_j: Q8_0 s = d * xScales[b]; Q4_K s = (d * sc) * xScales[b] with sc the
/// 6-bit scale of the 32-element sub-block; Q6_K lanes 0..3 use the first 16-element sub-block's scale and lanes
/// 4..7 the second's: s_j = (d * sc_half) * xScales[b]. d (and dmin) are the blocks' f16 scales converted exactly.</item>
/// <item>acc_j = FusedMultiplyAdd(s_j, (float)P_j, acc_j); the 8 lanes start at +0.</item>
/// <item>Q4_K only: mins = FusedMultiplyAdd((dmin * m) * xScales[b], (float)xSums[b], mins), one scalar, from +0.</item>
/// </list>
/// <para>Result: the pairwise tree over the 8 lanes (widths 4, 2, 1), minus mins for Q4_K.</para>
/// <para>Q4_0 is the exception (order changed in issue 7, see docs/determinism.md): for each block b, in increasing b,
/// one exact int32 P_b = Σ_{k=0..31} (q_k − 8) · xq_k over the whole block, s_b = d_b · xScales[b] (one f32 product)
/// and acc = FusedMultiplyAdd(s_b, (float)P_b, acc), one f32 accumulator from +0; the result is acc. The integer sum is
/// exact whatever the order it is added in, so a kernel may form it any way; the float work is one product and one FMA
/// per block instead of eight lanes' worth, which is what lets a prefill kernel put 8 rows or 8 tokens in one vector's
/// lanes with no horizontal work.</para>
/// </summary>
public static class ReferenceRowDot
{
    public static bool NeedsQuantizedActivation(GgmlType type) =>
        type is GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q4_K or GgmlType.Q6_K;

    public static float Compute(GgmlType type, ReadOnlySpan<byte> row, int cols, ReadOnlySpan<float> x,
                                ReadOnlySpan<sbyte> xq, ReadOnlySpan<float> xScales, ReadOnlySpan<int> xSums)
    {
        KernelGuard.RowDotArguments(type, row, cols, x.Length, xq.Length, xScales.Length, xSums.Length);
        if (!NeedsQuantizedActivation(type))
        {
            float[] w = new float[cols];
            ReferenceDequantize.Row(type, row, w);
            return ReferenceDot.F32(w, x.Slice(0, cols));
        }

        if (type == GgmlType.Q4_0) return Q4_0(row, cols, xq, xScales);

        Span<float> acc = stackalloc float[8];
        Span<int> p = stackalloc int[8];
        Span<int> wq = stackalloc int[32];
        Span<float> s = stackalloc float[8];
        acc.Clear();
        float mins = 0f;
        for (int b = 0; b < cols / 32; b++)
        {
            float xs = xScales[b];
            switch (type)
            {
                case GgmlType.Q8_0:
                    {
                        ReadOnlySpan<byte> block = row.Slice(b * BlockQ8_0.Bytes, BlockQ8_0.Bytes);
                        for (int k = 0; k < 32; k++) wq[k] = (sbyte)block[2 + k];
                        s.Fill(F16(block) * xs);
                        break;
                    }
                case GgmlType.Q4_K:
                    {
                        ReadOnlySpan<byte> block = row.Slice(b / 8 * BlockQ4_K.Bytes, BlockQ4_K.Bytes);
                        int sub = b % 8;
                        BlockQ4_K.GetScaleMin(sub, block.Slice(4, 12), out int sc, out int m);
                        for (int k = 0; k < 32; k++) wq[k] = (block[16 + 32 * (sub >> 1) + k] >> (4 * (sub & 1))) & 0xF;
                        float d = F16(block), dmin = F16(block.Slice(2));
                        float dsc = d * sc;
                        s.Fill(dsc * xs);
                        float dm = dmin * m;
                        mins = MathF.FusedMultiplyAdd(dm * xs, xSums[b], mins);
                        break;
                    }
                case GgmlType.Q6_K:
                    {
                        ReadOnlySpan<byte> block = row.Slice(b / 8 * BlockQ6_K.Bytes, BlockQ6_K.Bytes);
                        int first = 32 * (b % 8);
                        for (int k = 0; k < 32; k++) wq[k] = ReferenceDequantize.Q6KQuant(block, first + k);
                        float d = F16(block.Slice(BlockQ6_K.DOffset));
                        float dsc0 = d * (sbyte)block[BlockQ6_K.ScalesOffset + first / 16];
                        float dsc1 = d * (sbyte)block[BlockQ6_K.ScalesOffset + first / 16 + 1];
                        s.Slice(0, 4).Fill(dsc0 * xs);
                        s.Slice(4, 4).Fill(dsc1 * xs);
                        break;
                    }
            }

            ReadOnlySpan<sbyte> xb = xq.Slice(b * 32, 32);
            for (int j = 0; j < 8; j++)
            {
                int sum = 0;
                for (int k = 4 * j; k < 4 * j + 4; k++) sum += wq[k] * xb[k];
                p[j] = sum;
            }

            for (int j = 0; j < 8; j++) acc[j] = MathF.FusedMultiplyAdd(s[j], p[j], acc[j]);
        }

        return ReferenceDot.Tree8(acc) - mins;
    }

    /// <summary>Q4_0: whole-block exact integer sums, one f32 accumulator (see the class summary).</summary>
    private static float Q4_0(ReadOnlySpan<byte> row, int cols, ReadOnlySpan<sbyte> xq, ReadOnlySpan<float> xScales)
    {
        float acc = 0f;
        for (int b = 0; b < cols / 32; b++)
        {
            ReadOnlySpan<byte> block = row.Slice(b * BlockQ4_0.Bytes, BlockQ4_0.Bytes);
            ReadOnlySpan<sbyte> xb = xq.Slice(b * 32, 32);
            int p = 0;
            for (int k = 0; k < 16; k++)
            {
                p += ((block[2 + k] & 0xF) - 8) * xb[k];
                p += ((block[2 + k] >> 4) - 8) * xb[k + 16];
            }

            acc = MathF.FusedMultiplyAdd(F16(block) * xScales[b], p, acc);
        }

        return acc;
    }

    private static float F16(ReadOnlySpan<byte> at) => HalfBits.F16ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(at));
}
