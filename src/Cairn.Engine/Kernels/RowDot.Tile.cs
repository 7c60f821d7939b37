using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Cairn.Engine.Tensors;

namespace Cairn.Engine.Kernels;

/// <summary>
/// Consecutive quantized weight rows against several tokens (prefill): tiles of 2 rows × 4 tokens, so that each
/// block's unpacked weights serve 4 tokens and each token's widened activation serves 2 rows. Every (row, token)
/// keeps its own 8-lane accumulator, updated block after block exactly as <see cref="Compute"/> does it.
/// </summary>
public static partial class RowDot
{
    /// <summary>
    /// y[t · yStride + r] = <see cref="Compute"/>(type, row r, cols, token t) for r in [0, rowCount) and t in [0, tokens):
    /// row r is rows[r · RowBytes(type, cols) ..]; token t's activation is laid out as in <see cref="ComputeTokens"/>.
    /// Quantized types only.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ComputeRowsTokens(GgmlType type, ReadOnlySpan<byte> rows, int rowCount, int cols, int tokens,
                                         ReadOnlySpan<sbyte> xq, ReadOnlySpan<float> xScales, ReadOnlySpan<int> xSums,
                                         Span<float> y, int yStride)
    {
        if (!NeedsQuantizedActivation(type)) KernelGuard.ThrowUnsupported(type);
        ArgumentOutOfRangeException.ThrowIfNegative(rowCount);
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        if (rowCount == 0 || tokens == 0) return;
        ArgumentOutOfRangeException.ThrowIfLessThan(yStride, rowCount);
        KernelGuard.RowDotArguments(type, rows, cols, 0, cols, cols / 32, cols / 32);
        int rowBytes = (int)GgmlTypeInfo.RowBytes(type, cols), blocks = cols / 32;
        KernelGuard.AtLeast(rows.Length, rowCount * rowBytes, "rows");
        KernelGuard.AtLeast(xq.Length, tokens * cols, "xq");
        KernelGuard.AtLeast(xScales.Length, tokens * blocks, "xScales");
        if (type == GgmlType.Q4_K) KernelGuard.AtLeast(xSums.Length, tokens * blocks, "xSums");
        KernelGuard.AtLeast(y.Length, (tokens - 1) * yStride + rowCount, "y");

        int r = 0;
        if (type == GgmlType.Q4_0)
        {
            r = Q4_0RowsTokens(rows, rowCount, rowBytes, blocks, tokens, xq, xScales, y, yStride);
        }
        else if (KernelOptions.UseVnni && rowCount >= 2 && tokens >= TokenGroup)
        {
            int groupTokens = tokens / TokenGroup * TokenGroup;
            int offset = type switch { GgmlType.Q8_0 => Q8_0Vnni.Offset, GgmlType.Q6_K => Q6_KVnni.Offset, _ => 0 };
            int[] starts = ArrayPool<int>.Shared.Rent(offset == 0 ? 1 : 8 * blocks * groupTokens);
            if (offset != 0) ScaledGroupSums(xq, blocks, groupTokens, offset, starts);
            ReadOnlySpan<int> sums = type == GgmlType.Q4_K ? xSums : default;
            bool wide = KernelOptions.UseVector512;
            // Q4_K's min terms for the 4 × 8 tiles: per 8 tokens and block, their 8 xScales then their 8 block sums.
            int wideTokens = type == GgmlType.Q4_K ? tokens / 8 * 8 : groupTokens;
            float[]? minTerms = type == GgmlType.Q4_K && wide && wideTokens > 0 && rowCount >= 4 ? ArrayPool<float>.Shared.Rent(2 * wideTokens * blocks) : null;
            if (minTerms != null) Q4_KTokenTerms(xScales, xSums, wideTokens, blocks, 8, minTerms);
            for (; wide && r + 4 <= rowCount && (type != GgmlType.Q4_K || wideTokens > 0); r += 4)
            {
                ReadOnlySpan<byte> quad = rows.Slice(r * rowBytes, 4 * rowBytes);
                int t = 0;
                for (; t + 2 * TokenGroup <= wideTokens; t += 2 * TokenGroup)
                {
                    switch (type)
                    {
                        case GgmlType.Q8_0: Tile4x8Vnni512<Q8_0Vnni>(quad, rowBytes, blocks, xq, xScales, starts, default, t, y.Slice(r), yStride); break;
                        case GgmlType.Q4_K: Tile4x8Vnni512<Q4_KVnni>(quad, rowBytes, blocks, xq, xScales, starts, minTerms, t, y.Slice(r), yStride); break;
                        default: Tile4x8Vnni512<Q6_KVnni>(quad, rowBytes, blocks, xq, xScales, starts, default, t, y.Slice(r), yStride); break;
                    }
                }

                for (; t < wideTokens; t += TokenGroup)
                {
                    switch (type)
                    {
                        case GgmlType.Q8_0: Tile4x4Vnni512<Q8_0Vnni>(quad, rowBytes, blocks, xq, xScales, starts, t, y.Slice(r), yStride); break;
                        default: Tile4x4Vnni512<Q6_KVnni>(quad, rowBytes, blocks, xq, xScales, starts, t, y.Slice(r), yStride); break;
                    }
                }

                for (int k = 0; k < 4 && t < tokens; k++)
                {
                    ComputeTokens(type, quad.Slice(k * rowBytes, rowBytes), cols, tokens - t, xq.Slice(t * cols), xScales.Slice(t * blocks),
                                  type == GgmlType.Q4_K ? xSums.Slice(t * blocks) : default, y.Slice(t * yStride + r + k), yStride);
                }
            }

            if (minTerms != null) ArrayPool<float>.Shared.Return(minTerms);

            float[]? tokenTerms = null, rowTerms = null;
            if (type == GgmlType.Q4_K && wide && rowCount >= 2 && groupTokens > 0)
            {
                tokenTerms = ArrayPool<float>.Shared.Rent(2 * groupTokens * blocks);
                rowTerms = ArrayPool<float>.Shared.Rent(4 * blocks);
                Q4_KTokenTerms(xScales, xSums, groupTokens, blocks, TokenGroup, tokenTerms);
            }

            for (; r + 2 <= rowCount; r += 2)
            {
                ReadOnlySpan<byte> pair = rows.Slice(r * rowBytes, 2 * rowBytes);
                if (rowTerms != null) Q4_KRowTerms(pair, rowBytes, blocks, rowTerms);
                for (int t = 0; t < groupTokens; t += TokenGroup)
                {
                    switch (type)
                    {
                        case GgmlType.Q8_0: if (wide) Tile2x4Vnni512<Q8_0Vnni>(pair, rowBytes, blocks, xq, xScales, starts, default, default, t, y.Slice(r), yStride); else Tile2x4Vnni<Q8_0Vnni>(pair, rowBytes, blocks, xq, xScales, sums, starts, t, y.Slice(r), yStride); break;
                        case GgmlType.Q4_K: if (wide) Tile2x4Vnni512<Q4_KVnni>(pair, rowBytes, blocks, xq, xScales, starts, tokenTerms, rowTerms, t, y.Slice(r), yStride); else Tile2x4Vnni<Q4_KVnni>(pair, rowBytes, blocks, xq, xScales, sums, starts, t, y.Slice(r), yStride); break;
                        default: if (wide) Tile2x4Vnni512<Q6_KVnni>(pair, rowBytes, blocks, xq, xScales, starts, default, default, t, y.Slice(r), yStride); else Tile2x4Vnni<Q6_KVnni>(pair, rowBytes, blocks, xq, xScales, sums, starts, t, y.Slice(r), yStride); break;
                    }
                }

                for (int k = 0; k < 2 && groupTokens < tokens; k++)
                {
                    ComputeTokens(type, pair.Slice(k * rowBytes, rowBytes), cols, tokens - groupTokens, xq.Slice(groupTokens * cols), xScales.Slice(groupTokens * blocks),
                                  type == GgmlType.Q4_K ? xSums.Slice(groupTokens * blocks) : default, y.Slice(groupTokens * yStride + r + k), yStride);
                }
            }

            if (tokenTerms != null) ArrayPool<float>.Shared.Return(tokenTerms);
            if (rowTerms != null) ArrayPool<float>.Shared.Return(rowTerms);
            ArrayPool<int>.Shared.Return(starts);
        }
        else if (KernelOptions.UseAvx2)
        {
            for (; r + 2 <= rowCount; r += 2)
            {
                ReadOnlySpan<byte> pair = rows.Slice(r * rowBytes, 2 * rowBytes);
                int t = 0;
                for (; t + TokenGroup <= tokens; t += TokenGroup)
                {
                    switch (type)
                    {
                        case GgmlType.Q8_0: Tile2x4<Q8_0Unpack>(pair, rowBytes, blocks, xq, xScales, xSums, t, y.Slice(r), yStride); break;
                        case GgmlType.Q4_K: Tile2x4<Q4_KUnpack>(pair, rowBytes, blocks, xq, xScales, xSums, t, y.Slice(r), yStride); break;
                        default: Tile2x4<Q6_KUnpack>(pair, rowBytes, blocks, xq, xScales, xSums, t, y.Slice(r), yStride); break;
                    }
                }

                if (t < tokens)
                {
                    int rest = tokens - t;
                    for (int k = 0; k < 2; k++)
                    {
                        ComputeTokens(type, pair.Slice(k * rowBytes, rowBytes), cols, rest, xq.Slice(t * cols), xScales.Slice(t * blocks),
                                      type == GgmlType.Q4_K ? xSums.Slice(t * blocks) : default, y.Slice(t * yStride + r + k), yStride);
                    }
                }
            }
        }

        for (; r < rowCount; r++)
            ComputeTokens(type, rows.Slice(r * rowBytes, rowBytes), cols, tokens, xq, xScales, xSums, y.Slice(r), yStride);
    }

    /// <summary>Rows 0 and 1 of <paramref name="rows"/> × tokens [t0, t0 + 4): 8 accumulators in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile2x4<TUnpack>(ReadOnlySpan<byte> rows, int rowBytes, int blocks, ReadOnlySpan<sbyte> xq,
                                         ReadOnlySpan<float> xScales, ReadOnlySpan<int> xSums, int t0, Span<float> y, int yStride)
        where TUnpack : struct, IBlockUnpack
    {
        ref byte ra = ref MemoryMarshal.GetReference(rows);
        ref byte rb = ref Unsafe.Add(ref ra, rowBytes);
        int cols = 32 * blocks;
        ref sbyte x0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(xq), t0 * cols);
        ref float s0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(xScales), t0 * blocks);
        ref int m0 = ref TUnpack.HasMins ? ref Unsafe.Add(ref MemoryMarshal.GetReference(xSums), t0 * blocks) : ref Unsafe.As<float, int>(ref s0);

        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;   // row a, tokens 0..3
        Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;   // row b
        float na0 = 0f, na1 = 0f, na2 = 0f, na3 = 0f, nb0 = 0f, nb1 = 0f, nb2 = 0f, nb3 = 0f;
        for (int b = 0; b < blocks; b++)
        {
            TUnpack.Unpack(ref ra, b, out Vector256<sbyte> wa, out Vector256<float> wsa, out float dma);
            TUnpack.Unpack(ref rb, b, out Vector256<sbyte> wb, out Vector256<float> wsb, out float dmb);
            Vector256<short> wal = Avx2.ConvertToVector256Int16(wa.GetLower()), wah = Avx2.ConvertToVector256Int16(wa.GetUpper());
            Vector256<short> wbl = Avx2.ConvertToVector256Int16(wb.GetLower()), wbh = Avx2.ConvertToVector256Int16(wb.GetUpper());
            nuint at = (nuint)(32 * b);

            TileToken(ref x0, at, Unsafe.Add(ref s0, b), wal, wah, wsa, wbl, wbh, wsb, ref a0, ref b0);
            TileToken(ref Unsafe.Add(ref x0, cols), at, Unsafe.Add(ref s0, blocks + b), wal, wah, wsa, wbl, wbh, wsb, ref a1, ref b1);
            TileToken(ref Unsafe.Add(ref x0, 2 * cols), at, Unsafe.Add(ref s0, 2 * blocks + b), wal, wah, wsa, wbl, wbh, wsb, ref a2, ref b2);
            TileToken(ref Unsafe.Add(ref x0, 3 * cols), at, Unsafe.Add(ref s0, 3 * blocks + b), wal, wah, wsa, wbl, wbh, wsb, ref a3, ref b3);
            if (TUnpack.HasMins)
            {
                float xs0 = Unsafe.Add(ref s0, b), xs1 = Unsafe.Add(ref s0, blocks + b);
                float xs2 = Unsafe.Add(ref s0, 2 * blocks + b), xs3 = Unsafe.Add(ref s0, 3 * blocks + b);
                float sum0 = Unsafe.Add(ref m0, b), sum1 = Unsafe.Add(ref m0, blocks + b);
                float sum2 = Unsafe.Add(ref m0, 2 * blocks + b), sum3 = Unsafe.Add(ref m0, 3 * blocks + b);
                na0 = MathF.FusedMultiplyAdd(dma * xs0, sum0, na0);
                na1 = MathF.FusedMultiplyAdd(dma * xs1, sum1, na1);
                na2 = MathF.FusedMultiplyAdd(dma * xs2, sum2, na2);
                na3 = MathF.FusedMultiplyAdd(dma * xs3, sum3, na3);
                nb0 = MathF.FusedMultiplyAdd(dmb * xs0, sum0, nb0);
                nb1 = MathF.FusedMultiplyAdd(dmb * xs1, sum1, nb1);
                nb2 = MathF.FusedMultiplyAdd(dmb * xs2, sum2, nb2);
                nb3 = MathF.FusedMultiplyAdd(dmb * xs3, sum3, nb3);
            }
        }

        y[t0 * yStride] = Dot.Tree8(Unpermute(a0)) - na0;
        y[t0 * yStride + 1] = Dot.Tree8(Unpermute(b0)) - nb0;
        y[(t0 + 1) * yStride] = Dot.Tree8(Unpermute(a1)) - na1;
        y[(t0 + 1) * yStride + 1] = Dot.Tree8(Unpermute(b1)) - nb1;
        y[(t0 + 2) * yStride] = Dot.Tree8(Unpermute(a2)) - na2;
        y[(t0 + 2) * yStride + 1] = Dot.Tree8(Unpermute(b2)) - nb2;
        y[(t0 + 3) * yStride] = Dot.Tree8(Unpermute(a3)) - na3;
        y[(t0 + 3) * yStride + 1] = Dot.Tree8(Unpermute(b3)) - nb3;
    }

    /// <summary>One token's block against two rows: the widened activation is shared, each row's lane sums are its own.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TileToken(ref sbyte x, nuint at, float xs, Vector256<short> wal, Vector256<short> wah, Vector256<float> wsa,
                                  Vector256<short> wbl, Vector256<short> wbh, Vector256<float> wsb,
                                  ref Vector256<float> accA, ref Vector256<float> accB)
    {
        Vector256<sbyte> xb = Vector256.LoadUnsafe(ref x, at);
        Vector256<short> xl = Avx2.ConvertToVector256Int16(xb.GetLower()), xh = Avx2.ConvertToVector256Int16(xb.GetUpper());
        Vector256<float> xsv = Vector256.Create(xs);
        Vector256<int> pa = Avx2.HorizontalAdd(Avx2.MultiplyAddAdjacent(wal, xl), Avx2.MultiplyAddAdjacent(wah, xh));
        Vector256<int> pb = Avx2.HorizontalAdd(Avx2.MultiplyAddAdjacent(wbl, xl), Avx2.MultiplyAddAdjacent(wbh, xh));
        accA = Vector256.FusedMultiplyAdd(wsa * xsv, Vector256.ConvertToSingle(pa), accA);
        accB = Vector256.FusedMultiplyAdd(wsb * xsv, Vector256.ConvertToSingle(pb), accB);
    }

    /// <summary>
    /// Q4_K's min-term inputs for the tiles, token groups of <paramref name="width"/> side by side: for group g and block
    /// b, terms[2 · width · (g · blocks + b) + i] = xScales of token g · width + i and, at + width, its block sum as f32
    /// (exact).
    /// </summary>
    private static void Q4_KTokenTerms(ReadOnlySpan<float> xScales, ReadOnlySpan<int> xSums, int tokens, int blocks, int width, Span<float> terms)
    {
        for (int t = 0; t < tokens; t++)
        {
            int g = t / width, i = t % width;
            for (int b = 0; b < blocks; b++)
            {
                int at = 2 * width * (g * blocks + b) + i;
                terms[at] = xScales[t * blocks + b];
                terms[at + width] = xSums[t * blocks + b];
            }
        }
    }
}
