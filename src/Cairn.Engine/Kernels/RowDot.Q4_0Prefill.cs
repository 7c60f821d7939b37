using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Cairn.Engine.Kernels.Blocks;
using Cairn.Engine.Tensors;

namespace Cairn.Engine.Kernels;

/// <summary>
/// Q4_0 prefill with tokens in the vector lanes. The activations of 8 tokens are laid out once per matrix product so
/// that 32 bytes hold the same 4 elements of each of the 8 tokens ("token lanes", <see cref="PrepareQ4_0TokenLanes"/>);
/// a row's 4 unsigned weight nibbles for those elements are broadcast to all lanes, and one <c>vpdpbusd</c> adds
/// their 4 products to each token's int32 sum. Eight of them make the whole block's exact sum per token — the
/// reference's P_b, no horizontal work — and the block's float step, acc = fma(d · xs, (float)P_b, acc), is one
/// product, one conversion and one FMA for 8 (row, token) pairs: an eighth of the old 8-lane order's float work.
/// </summary>
public static partial class RowDot
{
    /// <summary>Bytes of one (8-token group, block) record of the token-lane layout.</summary>
    public const int Q4_0LaneRecordBytes = 320;

    /// <summary>Rows of one tile.</summary>
    private const int LaneRows = 4;

    /// <summary>Bytes of one block's unpacked weights for <see cref="LaneRows"/> rows: 4 × 32 nibbles as bytes, then 4 f32 scales.</summary>
    private const int LaneWeightBytes = LaneRows * 32 + LaneRows * 4;

    [ThreadStatic] private static byte[]? t_laneWeights;

    /// <summary>Bytes <see cref="PrepareQ4_0TokenLanes"/> writes for <paramref name="tokens"/> tokens of <paramref name="cols"/> elements.</summary>
    public static int Q4_0TokenLanesBytes(int tokens, int cols) => checked((tokens + 7) / 8 * (cols / 32) * Q4_0LaneRecordBytes);

    /// <summary>
    /// Lays out Q8 activations for <see cref="ComputeRowsTokensQ4_0"/>: for each group g of 8 tokens and block b, a
    /// record of <see cref="Q4_0LaneRecordBytes"/> bytes at ((g · blocks) + b) · 320: bytes 32k..32k+31 hold elements
    /// 4k..4k+3 of the block for tokens 8g..8g+7 (4 bytes each, k = 0..7); bytes 256..287 the int32 −8 · Σ xq of the
    /// block per token (the Q4_0 offset, so that Σ q·x − 8·Σx = Σ (q − 8)·x); bytes 288..319 the f32 xScales. Missing
    /// tokens of the last group are zero throughout.
    /// </summary>
    public static void PrepareQ4_0TokenLanes(ReadOnlySpan<sbyte> xq, ReadOnlySpan<float> xScales, int tokens, int cols, Span<byte> lanes) =>
        PrepareQ4_0TokenLanes(xq, xScales, tokens, cols, lanes, 0, (Math.Max(tokens, 0) + 7) / 8);

    /// <summary><see cref="PrepareQ4_0TokenLanes(ReadOnlySpan{sbyte}, ReadOnlySpan{float}, int, int, Span{byte})"/> for
    /// the 8-token groups [<paramref name="firstGroup"/>, <paramref name="firstGroup"/> + <paramref name="groupCount"/>)
    /// only (each group's records depend on its tokens only), so that threads can split the work.</summary>
    internal static void PrepareQ4_0TokenLanes(ReadOnlySpan<sbyte> xq, ReadOnlySpan<float> xScales, int tokens, int cols, Span<byte> lanes,
                                               int firstGroup, int groupCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        if (cols < 0 || cols % 32 != 0) throw new ArgumentException($"cols must be a non-negative multiple of 32, got {cols}", nameof(cols));
        int blocks = cols / 32;
        KernelGuard.AtLeast(xq.Length, tokens * cols, "xq");
        KernelGuard.AtLeast(xScales.Length, tokens * blocks, "xScales");
        KernelGuard.AtLeast(lanes.Length, Q4_0TokenLanesBytes(tokens, cols), "lanes");
        int groups = (tokens + 7) / 8;
        if (firstGroup < 0 || groupCount < 0 || firstGroup > groups - groupCount)
            throw new ArgumentOutOfRangeException(nameof(firstGroup), $"groups [{firstGroup}, {firstGroup + groupCount}) are not within the {groups} of {tokens} tokens");
        ref sbyte rx = ref MemoryMarshal.GetReference(xq);
        ref float rs = ref MemoryMarshal.GetReference(xScales);
        ref byte rl = ref MemoryMarshal.GetReference(lanes);
        for (int g = firstGroup; g < firstGroup + groupCount; g++)
        {
            int present = Math.Min(8, tokens - 8 * g);
            for (int b = 0; b < blocks; b++)
            {
                ref byte rec = ref Unsafe.Add(ref rl, (nint)(g * blocks + b) * Q4_0LaneRecordBytes);
                if (present < 8) MemoryMarshal.CreateSpan(ref rec, Q4_0LaneRecordBytes).Clear();
                for (int t = 0; t < present; t++)
                {
                    ref sbyte src = ref Unsafe.Add(ref rx, (nint)(8 * g + t) * cols + 32 * b);
                    for (int k = 0; k < 8; k++)
                        Unsafe.WriteUnaligned(ref Unsafe.Add(ref rec, 32 * k + 4 * t), Unsafe.ReadUnaligned<int>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref src, 4 * k))));
                    Unsafe.WriteUnaligned(ref Unsafe.Add(ref rec, 256 + 4 * t), -8 * BlockSum(ref src));
                    Unsafe.WriteUnaligned(ref Unsafe.Add(ref rec, 288 + 4 * t), Unsafe.Add(ref rs, (8 * g + t) * blocks + b));
                }
            }
        }
    }

    /// <summary>Σ of 32 signed bytes (exact).</summary>
    private static int BlockSum(ref sbyte x)
    {
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<sbyte> v = Vector256.LoadUnsafe(ref x);
            return Vector256.Sum(Vector256.WidenLower(v) + Vector256.WidenUpper(v));
        }
        int s = 0;
        for (int i = 0; i < 32; i++) s += Unsafe.Add(ref x, i);
        return s;
    }

    /// <summary>
    /// y[t · yStride + r] = <see cref="Compute"/>(Q4_0, row r, cols, token t) for r in [0, rowCount), t in [0, tokens),
    /// the activations given in the token-lane layout of <see cref="PrepareQ4_0TokenLanes"/> (prepared once, shared by
    /// every call of one matrix product).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ComputeRowsTokensQ4_0(ReadOnlySpan<byte> rows, int rowCount, int cols, int tokens, ReadOnlySpan<byte> lanes,
                                             Span<float> y, int yStride)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rowCount);
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        if (rowCount == 0 || tokens == 0) return;
        ArgumentOutOfRangeException.ThrowIfLessThan(yStride, rowCount);
        KernelGuard.RowDotArguments(GgmlType.Q4_0, rows, cols, 0, cols, cols / 32, cols / 32);
        int rowBytes = (int)GgmlTypeInfo.RowBytes(GgmlType.Q4_0, cols);
        KernelGuard.AtLeast(rows.Length, rowCount * rowBytes, "rows");
        KernelGuard.AtLeast(lanes.Length, Q4_0TokenLanesBytes(tokens, cols), "lanes");
        KernelGuard.AtLeast(y.Length, (tokens - 1) * yStride + rowCount, "y");
        if (!KernelOptions.UseAvx2) throw new PlatformNotSupportedException("the token-lane Q4_0 kernel needs AVX2");
        if (KernelOptions.UseVnni) LaneTiles<DotVnni>(rows, rowCount, rowBytes, cols / 32, tokens, lanes, y, yStride);
        else LaneTiles<DotAvx2>(rows, rowCount, rowBytes, cols / 32, tokens, lanes, y, yStride);
    }

    /// <summary>Whether <see cref="ComputeRowsTokensQ4_0"/> runs on this machine (it needs AVX2).</summary>
    public static bool Q4_0TokenLanesSupported => KernelOptions.UseAvx2;

    /// <summary><see cref="ComputeRowsTokens"/> for Q4_0: lays the activations out in token lanes, then the tiles. Returns
    /// the rows written (all of them, or 0 where the tiles do not run and the caller goes row by row).</summary>
    private static int Q4_0RowsTokens(ReadOnlySpan<byte> rows, int rowCount, int rowBytes, int blocks, int tokens,
                                      ReadOnlySpan<sbyte> xq, ReadOnlySpan<float> xScales, Span<float> y, int yStride)
    {
        if (!KernelOptions.UseAvx2 || tokens < 2 || blocks == 0) return 0;
        int bytes = Q4_0TokenLanesBytes(tokens, 32 * blocks);
        byte[] lanes = ArrayPool<byte>.Shared.Rent(bytes);
        PrepareQ4_0TokenLanes(xq, xScales, tokens, 32 * blocks, lanes);
        ComputeRowsTokensQ4_0(rows, rowCount, 32 * blocks, tokens, lanes, y, yStride);
        ArrayPool<byte>.Shared.Return(lanes);
        return rowCount;
    }

    /// <summary>Row groups of 4 (the last one padded with zero weights, its extra outputs dropped) × token groups of 16, then 8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void LaneTiles<TDot>(ReadOnlySpan<byte> rows, int rowCount, int rowBytes, int blocks, int tokens,
                                               ReadOnlySpan<byte> lanes, Span<float> y, int yStride)
        where TDot : struct, IDot4
    {
        int need = blocks * LaneWeightBytes;
        byte[] wbuf = t_laneWeights is { } have && have.Length >= need ? have : (t_laneWeights = new byte[Math.Max(need, 64 * LaneWeightBytes)]);
        int groups = (tokens + 7) / 8;
        float* tile = stackalloc float[LaneRows * 16];
        fixed (byte* w = wbuf)
        fixed (byte* l = lanes)
        {
            for (int r0 = 0; r0 < rowCount; r0 += LaneRows)
            {
                int nr = Math.Min(LaneRows, rowCount - r0);
                UnpackLaneWeights(rows.Slice(r0 * rowBytes), rowBytes, nr, blocks, w);
                // The next rows come from memory while these tiles run (the unpacking otherwise waits on them).
                if (r0 + LaneRows < rowCount)
                {
                    fixed (byte* next = rows.Slice((r0 + LaneRows) * rowBytes))
                    {
                        int nextBytes = Math.Min(LaneRows, rowCount - r0 - LaneRows) * rowBytes;
                        for (int o = 0; o < nextBytes; o += 64) Sse.Prefetch0(next + o);
                    }
                }
                int g = 0;
                for (; g + 2 <= groups; g += 2)
                {
                    byte* a0 = l + (nint)g * blocks * Q4_0LaneRecordBytes;
                    Tile4x16<TDot>(w, a0, a0 + (nint)blocks * Q4_0LaneRecordBytes, blocks, tile);
                    Scatter(tile, 16, nr, 8 * g, tokens, y, yStride, r0);
                }

                if (g < groups)
                {
                    Tile4x8<TDot>(w, l + (nint)g * blocks * Q4_0LaneRecordBytes, blocks, tile);
                    Scatter(tile, 8, nr, 8 * g, tokens, y, yStride, r0);
                }
            }
        }
    }

    /// <summary>tile[r · width + t] → y[(t0 + t) · yStride + r0 + r] for the rows and tokens that exist.</summary>
    private static unsafe void Scatter(float* tile, int width, int nr, int t0, int tokens, Span<float> y, int yStride, int r0)
    {
        int nt = Math.Min(width, tokens - t0);
        for (int t = 0; t < nt; t++)
            for (int r = 0; r < nr; r++)
                y[(t0 + t) * yStride + r0 + r] = tile[r * width + t];
    }

    /// <summary>
    /// Per block b, at w + b · <see cref="LaneWeightBytes"/>: row k's 32 nibbles as bytes (element order) at 32k, then the
    /// rows' f32 scales d at 128 + 4k. Rows past <paramref name="count"/> are zero (their outputs are dropped).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void UnpackLaneWeights(ReadOnlySpan<byte> rows, int rowBytes, int count, int blocks, byte* w)
    {
        ref float f16 = ref HalfBits.F16Table0;
        ref byte r0 = ref MemoryMarshal.GetReference(rows);
        for (int k = 0; k < LaneRows; k++)
        {
            if (k >= count)
            {
                for (int b = 0; b < blocks; b++)
                {
                    Vector256<byte>.Zero.Store(w + b * LaneWeightBytes + 32 * k);
                    *(float*)(w + b * LaneWeightBytes + 128 + 4 * k) = 0f;
                }
                continue;
            }

            ref byte row = ref Unsafe.Add(ref r0, k * rowBytes);
            for (int b = 0; b < blocks; b++)
            {
                ref byte blk = ref Unsafe.Add(ref row, b * BlockQ4_0.Bytes);
                Vector128<byte> packed = Vector128.LoadUnsafe(ref Unsafe.Add(ref blk, 2));
                Vector128<byte> mask = Vector128.Create((byte)0x0F);
                Vector256.Create(packed & mask, Vector128.ShiftRightLogical(packed, 4)).Store(w + b * LaneWeightBytes + 32 * k);
                *(float*)(w + b * LaneWeightBytes + 128 + 4 * k) = HalfBits.F16At(ref f16, ref blk);
            }
        }
    }

    /// <summary>4 rows × 16 tokens (two token-lane groups): 8 int32 block sums and 8 f32 accumulators in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Tile4x16<TDot>(byte* w, byte* a0, byte* a1, int blocks, float* tile)
        where TDot : struct, IDot4
    {
        Vector256<float> f00 = default, f01 = default, f10 = default, f11 = default, f20 = default, f21 = default, f30 = default, f31 = default;
        for (int b = 0; b < blocks; b++)
        {
            Vector256<int> s0 = Vector256.Load((int*)(a0 + 256)), s1 = Vector256.Load((int*)(a1 + 256));
            Vector256<int> p00 = s0, p01 = s1, p10 = s0, p11 = s1, p20 = s0, p21 = s1, p30 = s0, p31 = s1;
            for (int k = 0; k < 32; k += 4)
            {
                Vector256<sbyte> x0 = Vector256.Load((sbyte*)(a0 + 8 * k)), x1 = Vector256.Load((sbyte*)(a1 + 8 * k));
                Vector256<byte> u = Vector256.Create(*(int*)(w + k)).AsByte();
                p00 = TDot.Dot(p00, u, x0);
                p01 = TDot.Dot(p01, u, x1);
                u = Vector256.Create(*(int*)(w + 32 + k)).AsByte();
                p10 = TDot.Dot(p10, u, x0);
                p11 = TDot.Dot(p11, u, x1);
                u = Vector256.Create(*(int*)(w + 64 + k)).AsByte();
                p20 = TDot.Dot(p20, u, x0);
                p21 = TDot.Dot(p21, u, x1);
                u = Vector256.Create(*(int*)(w + 96 + k)).AsByte();
                p30 = TDot.Dot(p30, u, x0);
                p31 = TDot.Dot(p31, u, x1);
            }

            Vector256<float> xs0 = Vector256.Load((float*)(a0 + 288)), xs1 = Vector256.Load((float*)(a1 + 288));
            float* d = (float*)(w + 128);
            Vector256<float> d0 = Vector256.Create(d[0]), d1 = Vector256.Create(d[1]), d2 = Vector256.Create(d[2]), d3 = Vector256.Create(d[3]);
            f00 = Vector256.FusedMultiplyAdd(d0 * xs0, Vector256.ConvertToSingle(p00), f00);
            f01 = Vector256.FusedMultiplyAdd(d0 * xs1, Vector256.ConvertToSingle(p01), f01);
            f10 = Vector256.FusedMultiplyAdd(d1 * xs0, Vector256.ConvertToSingle(p10), f10);
            f11 = Vector256.FusedMultiplyAdd(d1 * xs1, Vector256.ConvertToSingle(p11), f11);
            f20 = Vector256.FusedMultiplyAdd(d2 * xs0, Vector256.ConvertToSingle(p20), f20);
            f21 = Vector256.FusedMultiplyAdd(d2 * xs1, Vector256.ConvertToSingle(p21), f21);
            f30 = Vector256.FusedMultiplyAdd(d3 * xs0, Vector256.ConvertToSingle(p30), f30);
            f31 = Vector256.FusedMultiplyAdd(d3 * xs1, Vector256.ConvertToSingle(p31), f31);
            w += LaneWeightBytes;
            a0 += Q4_0LaneRecordBytes;
            a1 += Q4_0LaneRecordBytes;
        }

        f00.Store(tile);
        f01.Store(tile + 8);
        f10.Store(tile + 16);
        f11.Store(tile + 24);
        f20.Store(tile + 32);
        f21.Store(tile + 40);
        f30.Store(tile + 48);
        f31.Store(tile + 56);
    }

    /// <summary>4 rows × 8 tokens (one token-lane group), for an odd last group.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Tile4x8<TDot>(byte* w, byte* a0, int blocks, float* tile)
        where TDot : struct, IDot4
    {
        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int b = 0; b < blocks; b++)
        {
            Vector256<int> s0 = Vector256.Load((int*)(a0 + 256));
            Vector256<int> p0 = s0, p1 = s0, p2 = s0, p3 = s0;
            for (int k = 0; k < 32; k += 4)
            {
                Vector256<sbyte> x0 = Vector256.Load((sbyte*)(a0 + 8 * k));
                p0 = TDot.Dot(p0, Vector256.Create(*(int*)(w + k)).AsByte(), x0);
                p1 = TDot.Dot(p1, Vector256.Create(*(int*)(w + 32 + k)).AsByte(), x0);
                p2 = TDot.Dot(p2, Vector256.Create(*(int*)(w + 64 + k)).AsByte(), x0);
                p3 = TDot.Dot(p3, Vector256.Create(*(int*)(w + 96 + k)).AsByte(), x0);
            }

            Vector256<float> xs0 = Vector256.Load((float*)(a0 + 288));
            float* d = (float*)(w + 128);
            f0 = Vector256.FusedMultiplyAdd(Vector256.Create(d[0]) * xs0, Vector256.ConvertToSingle(p0), f0);
            f1 = Vector256.FusedMultiplyAdd(Vector256.Create(d[1]) * xs0, Vector256.ConvertToSingle(p1), f1);
            f2 = Vector256.FusedMultiplyAdd(Vector256.Create(d[2]) * xs0, Vector256.ConvertToSingle(p2), f2);
            f3 = Vector256.FusedMultiplyAdd(Vector256.Create(d[3]) * xs0, Vector256.ConvertToSingle(p3), f3);
            w += LaneWeightBytes;
            a0 += Q4_0LaneRecordBytes;
        }

        f0.Store(tile);
        f1.Store(tile + 8);
        f2.Store(tile + 16);
        f3.Store(tile + 24);
    }
}
