using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Cairn.Engine.Kernels.Blocks;

namespace Cairn.Engine.Kernels;

/// <summary>
/// The quantized rows with AVX-VNNI: one <c>vpdpbusd</c> gives a block's 8 partial sums P_j (4 products each, in
/// int32, exactly: no intermediate saturates) already in <see cref="Reference.ReferenceRowDot"/>'s lane order. It
/// multiplies unsigned by signed bytes, so each weight type is fed as an unsigned integer u = w + c with a constant c
/// (Q8_0: w XOR 0x80 = w + 128; Q6_K: q = w + 32; Q4_K: q itself, c = 0; Q4_0 has its own kernels, RowDot.Q4_0*.cs), and the
/// accumulator starts at −c · Σ_{4 elements} x, so that Σ u·x − c·Σx = Σ w·x: the same integers P_j. The float work per
/// block is then the reference's: s_j = wscale_j · xScales[b] (one product), acc_j = fma(s_j, P_j, acc_j).
/// <para>f16 block scales are converted by table (<see cref="HalfBits.F16At"/>, the table taken once per call), the same bits as the reference.</para>
/// </summary>
public static partial class RowDot
{
    /// <summary>Group sums cap for the stack (ints); larger rows rent.</summary>
    private const int StackGroupSums = 4096;

    /// <summary>sums[8b + j] = Σ_{k=0..3} xq[32b + 4j + k] for each block b (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GroupSums(ReadOnlySpan<sbyte> xq, int blocks, Span<int> sums)
    {
        ref sbyte rx = ref MemoryMarshal.GetReference(xq);
        ref int rs = ref MemoryMarshal.GetReference(sums);
        Vector256<byte> ones = Vector256.Create((byte)1);
        for (int b = 0; b < blocks; b++)
            AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, ones, Vector256.LoadUnsafe(ref rx, (nuint)(32 * b))).StoreUnsafe(ref rs, (nuint)(8 * b));
    }

    /// <summary>Four consecutive rows against one activation with VNNI; <paramref name="groupSums"/> from <see cref="GroupSums"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Rows4Vnni<TBlock>(ReadOnlySpan<byte> rows, int rowBytes, int blocks, ReadOnlySpan<sbyte> xq,
                                                 ReadOnlySpan<float> xScales, ReadOnlySpan<int> xSums, ReadOnlySpan<int> groupSums, Span<float> y)
        where TBlock : struct, IVnniBlock
    {
        ref byte r0 = ref MemoryMarshal.GetReference(rows);
        ref byte r1 = ref Unsafe.Add(ref r0, rowBytes);
        ref byte r2 = ref Unsafe.Add(ref r1, rowBytes);
        ref byte r3 = ref Unsafe.Add(ref r2, rowBytes);
        ref sbyte rx = ref MemoryMarshal.GetReference(xq);
        ref float rs = ref MemoryMarshal.GetReference(xScales);
        ref int rg = ref MemoryMarshal.GetReference(groupSums);
        ref int rm = ref TBlock.HasMins ? ref MemoryMarshal.GetReference(xSums) : ref Unsafe.As<float, int>(ref rs);
        ref float f16 = ref HalfBits.F16Table0;

        Vector256<float> a0 = Vector256<float>.Zero, a1 = Vector256<float>.Zero, a2 = Vector256<float>.Zero, a3 = Vector256<float>.Zero;
        float n0 = 0f, n1 = 0f, n2 = 0f, n3 = 0f;
        // The next four rows are prefetched in step with these (see Rows4), non-temporally: each byte is read once, and
        // into L1 (prefetcht0) measured 2–6 % slower for Q8_0 (for Q4_K and Q6_K, nta was not faster and they keep t0).
        ref byte next = ref Unsafe.Add(ref r0, RowGroup * rowBytes);
        int step = RowGroup * (rowBytes / blocks);
        for (int b = 0; b < blocks; b++)
        {
            for (int o = b * step, end = o + step; o < end; o += 64) Sse.PrefetchNonTemporal(Unsafe.AsPointer(ref Unsafe.Add(ref next, o)));
            Vector256<sbyte> xb = Vector256.LoadUnsafe(ref rx, (nuint)(32 * b));
            Vector256<int> start = TBlock.Offset == 0 ? Vector256<int>.Zero : Vector256.LoadUnsafe(ref rg, (nuint)(8 * b)) * -TBlock.Offset;
            float xs = Unsafe.Add(ref rs, b);
            Vector256<float> xsv = Vector256.Create(xs);
            TBlock.Unpack(ref r0, b, ref f16, out Vector256<byte> q0, out Vector256<float> ws0, out float dm0);
            a0 = Vector256.FusedMultiplyAdd(ws0 * xsv, Vector256.ConvertToSingle(AvxVnni.MultiplyWideningAndAdd(start, q0, xb)), a0);
            TBlock.Unpack(ref r1, b, ref f16, out Vector256<byte> q1, out Vector256<float> ws1, out float dm1);
            a1 = Vector256.FusedMultiplyAdd(ws1 * xsv, Vector256.ConvertToSingle(AvxVnni.MultiplyWideningAndAdd(start, q1, xb)), a1);
            TBlock.Unpack(ref r2, b, ref f16, out Vector256<byte> q2, out Vector256<float> ws2, out float dm2);
            a2 = Vector256.FusedMultiplyAdd(ws2 * xsv, Vector256.ConvertToSingle(AvxVnni.MultiplyWideningAndAdd(start, q2, xb)), a2);
            TBlock.Unpack(ref r3, b, ref f16, out Vector256<byte> q3, out Vector256<float> ws3, out float dm3);
            a3 = Vector256.FusedMultiplyAdd(ws3 * xsv, Vector256.ConvertToSingle(AvxVnni.MultiplyWideningAndAdd(start, q3, xb)), a3);
            if (TBlock.HasMins)
            {
                float sum = Unsafe.Add(ref rm, b);
                n0 = MathF.FusedMultiplyAdd(dm0 * xs, sum, n0);
                n1 = MathF.FusedMultiplyAdd(dm1 * xs, sum, n1);
                n2 = MathF.FusedMultiplyAdd(dm2 * xs, sum, n2);
                n3 = MathF.FusedMultiplyAdd(dm3 * xs, sum, n3);
            }
        }

        y[0] = Dot.Tree8(a0) - n0;
        y[1] = Dot.Tree8(a1) - n1;
        y[2] = Dot.Tree8(a2) - n2;
        y[3] = Dot.Tree8(a3) - n3;
    }

    /// <summary>
    /// Rows 0 and 1 of <paramref name="rows"/> × tokens [t0, t0 + 4) with VNNI (prefill): each block's two unpacked
    /// weight vectors serve 4 tokens; <paramref name="starts"/> holds every token's −Offset · group sums (see
    /// <see cref="ScaledGroupSums"/>). 8 accumulators in registers, each updated exactly as <see cref="Compute"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile2x4Vnni<TBlock>(ReadOnlySpan<byte> rows, int rowBytes, int blocks, ReadOnlySpan<sbyte> xq,
                                            ReadOnlySpan<float> xScales, ReadOnlySpan<int> xSums, ReadOnlySpan<int> starts, int t0, Span<float> y, int yStride)
        where TBlock : struct, IVnniBlock
    {
        ref byte ra = ref MemoryMarshal.GetReference(rows);
        ref byte rb = ref Unsafe.Add(ref ra, rowBytes);
        int cols = 32 * blocks;
        ref sbyte x0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(xq), t0 * cols);
        ref float s0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(xScales), t0 * blocks);
        ref int g0 = ref TBlock.Offset == 0 ? ref Unsafe.As<float, int>(ref s0) : ref Unsafe.Add(ref MemoryMarshal.GetReference(starts), t0 * 8 * blocks);
        ref int m0 = ref TBlock.HasMins ? ref Unsafe.Add(ref MemoryMarshal.GetReference(xSums), t0 * blocks) : ref Unsafe.As<float, int>(ref s0);
        ref float f16 = ref HalfBits.F16Table0;

        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;   // row a, tokens 0..3
        Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;   // row b
        float na0 = 0f, na1 = 0f, na2 = 0f, na3 = 0f, nb0 = 0f, nb1 = 0f, nb2 = 0f, nb3 = 0f;
        for (int b = 0; b < blocks; b++)
        {
            TBlock.Unpack(ref ra, b, ref f16, out Vector256<byte> wa, out Vector256<float> wsa, out float dma);
            TBlock.Unpack(ref rb, b, ref f16, out Vector256<byte> wb, out Vector256<float> wsb, out float dmb);
            nuint xat = (nuint)(32 * b), gat = (nuint)(8 * b);
            TileTokenVnni<TBlock>(ref x0, ref g0, xat, gat, Unsafe.Add(ref s0, b), wa, wsa, wb, wsb, ref a0, ref b0);
            TileTokenVnni<TBlock>(ref Unsafe.Add(ref x0, cols), ref Unsafe.Add(ref g0, 8 * blocks), xat, gat, Unsafe.Add(ref s0, blocks + b), wa, wsa, wb, wsb, ref a1, ref b1);
            TileTokenVnni<TBlock>(ref Unsafe.Add(ref x0, 2 * cols), ref Unsafe.Add(ref g0, 16 * blocks), xat, gat, Unsafe.Add(ref s0, 2 * blocks + b), wa, wsa, wb, wsb, ref a2, ref b2);
            TileTokenVnni<TBlock>(ref Unsafe.Add(ref x0, 3 * cols), ref Unsafe.Add(ref g0, 24 * blocks), xat, gat, Unsafe.Add(ref s0, 3 * blocks + b), wa, wsa, wb, wsb, ref a3, ref b3);
            if (TBlock.HasMins)
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

        y[t0 * yStride] = Dot.Tree8(a0) - na0;
        y[t0 * yStride + 1] = Dot.Tree8(b0) - nb0;
        y[(t0 + 1) * yStride] = Dot.Tree8(a1) - na1;
        y[(t0 + 1) * yStride + 1] = Dot.Tree8(b1) - nb1;
        y[(t0 + 2) * yStride] = Dot.Tree8(a2) - na2;
        y[(t0 + 2) * yStride + 1] = Dot.Tree8(b2) - nb2;
        y[(t0 + 3) * yStride] = Dot.Tree8(a3) - na3;
        y[(t0 + 3) * yStride + 1] = Dot.Tree8(b3) - nb3;
    }

    /// <summary>
    /// <see cref="Tile2x4Vnni{TBlock}"/> with the float work in 512-bit vectors: a token's accumulator holds row a's 8
    /// lanes in its lower half and row b's in its upper half, so one conversion, one scale product and one FMA serve
    /// both rows. Each half's lanes see exactly the operations of their own row's accumulator.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile2x4Vnni512<TBlock>(ReadOnlySpan<byte> rows, int rowBytes, int blocks, ReadOnlySpan<sbyte> xq,
                                               ReadOnlySpan<float> xScales, ReadOnlySpan<int> starts, ReadOnlySpan<float> minTerms,
                                               ReadOnlySpan<float> rowTerms, int t0, Span<float> y, int yStride)
        where TBlock : struct, IVnniBlock
    {
        ref byte ra = ref MemoryMarshal.GetReference(rows);
        ref byte rb = ref Unsafe.Add(ref ra, rowBytes);
        int cols = 32 * blocks;
        ref sbyte x0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(xq), t0 * cols);
        ref float s0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(xScales), t0 * blocks);
        ref int g0 = ref TBlock.Offset == 0 ? ref Unsafe.As<float, int>(ref s0) : ref Unsafe.Add(ref MemoryMarshal.GetReference(starts), t0 * 8 * blocks);
        ref float f16 = ref HalfBits.F16Table0;
        // Q4_K: the two rows' d · sc and dmin · m per sub-block, decoded once for all token groups (Q4_KRowTerms), and
        // the 4 tokens' xScales and block sums per block side by side (Q4_KTokenTerms).
        ref float rt = ref TBlock.HasMins ? ref MemoryMarshal.GetReference(rowTerms) : ref f16;
        ref float mt = ref TBlock.HasMins ? ref Unsafe.Add(ref MemoryMarshal.GetReference(minTerms), t0 / TokenGroup * 8 * blocks) : ref f16;

        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;   // tokens 0..3: [row a | row b]
        // Q4_K's min terms: [row a, tokens 0..3 | row b, tokens 0..3], each lane the reference's scalar FMA chain.
        Vector256<float> mins = default;
        for (int b = 0; b < blocks; b++)
        {
            Vector256<byte> wa, wb;
            Vector512<float> ws;
            if (TBlock.HasMins)
            {
                wa = Q4_KQuants(ref ra, b);
                wb = Q4_KQuants(ref rb, b);
                ws = Vector256.Create(rt).ToVector512Unsafe().WithUpper(Vector256.Create(Unsafe.Add(ref rt, 1)));
                Vector256<float> dm = Vector256.Create(Vector128.Create(Unsafe.Add(ref rt, 2)), Vector128.Create(Unsafe.Add(ref rt, 3)));
                Vector128<float> xs4 = Vector128.LoadUnsafe(ref mt), sum4 = Vector128.LoadUnsafe(ref mt, 4);
                mins = Vector256.FusedMultiplyAdd(dm * Vector256.Create(xs4, xs4), Vector256.Create(sum4, sum4), mins);
                rt = ref Unsafe.Add(ref rt, 4);
                mt = ref Unsafe.Add(ref mt, 8);
            }
            else
            {
                TBlock.Unpack(ref ra, b, ref f16, out wa, out Vector256<float> wsa, out _);
                TBlock.Unpack(ref rb, b, ref f16, out wb, out Vector256<float> wsb, out _);
                ws = wsa.ToVector512Unsafe().WithUpper(wsb);
            }

            nuint xat = (nuint)(32 * b), gat = (nuint)(8 * b);
            a0 = TileToken512<TBlock>(a0, ref x0, ref g0, xat, gat, Unsafe.Add(ref s0, b), wa, wb, ws);
            a1 = TileToken512<TBlock>(a1, ref Unsafe.Add(ref x0, cols), ref Unsafe.Add(ref g0, 8 * blocks), xat, gat, Unsafe.Add(ref s0, blocks + b), wa, wb, ws);
            a2 = TileToken512<TBlock>(a2, ref Unsafe.Add(ref x0, 2 * cols), ref Unsafe.Add(ref g0, 16 * blocks), xat, gat, Unsafe.Add(ref s0, 2 * blocks + b), wa, wb, ws);
            a3 = TileToken512<TBlock>(a3, ref Unsafe.Add(ref x0, 3 * cols), ref Unsafe.Add(ref g0, 24 * blocks), xat, gat, Unsafe.Add(ref s0, 3 * blocks + b), wa, wb, ws);
        }

        y[t0 * yStride] = Dot.Tree8(a0.GetLower()) - mins.GetElement(0);
        y[t0 * yStride + 1] = Dot.Tree8(a0.GetUpper()) - mins.GetElement(4);
        y[(t0 + 1) * yStride] = Dot.Tree8(a1.GetLower()) - mins.GetElement(1);
        y[(t0 + 1) * yStride + 1] = Dot.Tree8(a1.GetUpper()) - mins.GetElement(5);
        y[(t0 + 2) * yStride] = Dot.Tree8(a2.GetLower()) - mins.GetElement(2);
        y[(t0 + 2) * yStride + 1] = Dot.Tree8(a2.GetUpper()) - mins.GetElement(6);
        y[(t0 + 3) * yStride] = Dot.Tree8(a3.GetLower()) - mins.GetElement(3);
        y[(t0 + 3) * yStride + 1] = Dot.Tree8(a3.GetUpper()) - mins.GetElement(7);
    }

    /// <summary>The 32 unsigned nibbles of Q4_K sub-block b of a row (the quants part of <see cref="Q4_KVnni.Unpack"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Q4_KQuants(ref byte row, int b)
    {
        int sub = b & 7;
        Vector256<byte> packed = Vector256.LoadUnsafe(ref Unsafe.Add(ref row, (b >> 3) * BlockQ4_K.Bytes + 16 + 32 * (sub >> 1)));
        return ((sub & 1) == 0 ? packed : Vector256.ShiftRightLogical(packed.AsUInt16(), 4).AsByte()) & Vector256.Create((byte)0x0F);
    }

    /// <summary>
    /// terms[4b] and [4b + 1] = d · sc of sub-block b of rows a and b, [4b + 2] and [4b + 3] = dmin · m: the products of
    /// <see cref="Q4_KVnni.Unpack"/>, decoded once per row pair instead of once per token group.
    /// </summary>
    private static void Q4_KRowTerms(ReadOnlySpan<byte> pair, int rowBytes, int blocks, Span<float> terms)
    {
        ref float f16 = ref HalfBits.F16Table0;
        for (int k = 0; k < 2; k++)
        {
            ref byte row = ref Unsafe.Add(ref MemoryMarshal.GetReference(pair), k * rowBytes);
            for (int b = 0; b < blocks; b++)
            {
                Q4_KVnni.Unpack(ref row, b, ref f16, out _, out Vector256<float> ws, out float dm);
                terms[4 * b + k] = ws.ToScalar();
                terms[4 * b + 2 + k] = dm;
            }
        }
    }

    /// <summary>
    /// Rows 0..3 × tokens [t0, t0 + 4) for the types without mins: <see cref="Tile2x4Vnni512{TBlock}"/> twice over,
    /// sharing each token's activation load, start and scale between the two row pairs. 8 accumulators.
    /// Addressing as in <see cref="Tile4x8Vnni512{TBlock}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x4Vnni512<TBlock>(ReadOnlySpan<byte> rows, int rowBytes, int blocks, ReadOnlySpan<sbyte> xq,
                                               ReadOnlySpan<float> xScales, ReadOnlySpan<int> starts, int t0, Span<float> y, int yStride)
        where TBlock : struct, IVnniBlock
    {
        ref byte ra = ref MemoryMarshal.GetReference(rows);
        nint rs = rowBytes, c = 32 * blocks, sc = 4 * blocks, c3 = 3 * c, s3 = 3 * sc;
        ref byte x0 = ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref MemoryMarshal.GetReference(xq), t0 * 32 * blocks));
        ref byte s0 = ref Unsafe.As<float, byte>(ref Unsafe.Add(ref MemoryMarshal.GetReference(xScales), t0 * blocks));
        ref byte g0 = ref TBlock.Offset == 0 ? ref s0 : ref Unsafe.As<int, byte>(ref Unsafe.Add(ref MemoryMarshal.GetReference(starts), t0 * 8 * blocks));
        ref float f16 = ref HalfBits.F16Table0;

        Vector512<float> ab0 = default, ab1 = default, ab2 = default, ab3 = default;   // tokens 0..3: [row a | row b]
        Vector512<float> cd0 = default, cd1 = default, cd2 = default, cd3 = default;   // [row c | row d]
        for (int b = 0; b < blocks; b++)
        {
            TBlock.Unpack(ref ra, b, ref f16, out Vector256<byte> wa, out Vector256<float> wsa, out _);
            TBlock.Unpack(ref Unsafe.Add(ref ra, rs), b, ref f16, out Vector256<byte> wb, out Vector256<float> wsb, out _);
            TBlock.Unpack(ref Unsafe.Add(ref ra, rs * 2), b, ref f16, out Vector256<byte> wc, out Vector256<float> wsc, out _);
            TBlock.Unpack(ref Unsafe.Add(ref ra, rs * 2 + rs), b, ref f16, out Vector256<byte> wd, out Vector256<float> wsd, out _);
            Vector512<float> wsab = wsa.ToVector512Unsafe().WithUpper(wsb), wscd = wsc.ToVector512Unsafe().WithUpper(wsd);
            ref byte xb = ref Unsafe.Add(ref x0, 32 * b);
            ref byte gb = ref Unsafe.Add(ref g0, 32 * b);
            ref byte sb = ref Unsafe.Add(ref s0, 4 * b);
            Token4x512<TBlock>(ref ab0, ref cd0, ref xb, ref gb, ref sb, wa, wb, wc, wd, wsab, wscd);
            Token4x512<TBlock>(ref ab1, ref cd1, ref Unsafe.Add(ref xb, c), ref Unsafe.Add(ref gb, c), ref Unsafe.Add(ref sb, sc), wa, wb, wc, wd, wsab, wscd);
            Token4x512<TBlock>(ref ab2, ref cd2, ref Unsafe.Add(ref xb, c * 2), ref Unsafe.Add(ref gb, c * 2), ref Unsafe.Add(ref sb, sc * 2), wa, wb, wc, wd, wsab, wscd);
            Token4x512<TBlock>(ref ab3, ref cd3, ref Unsafe.Add(ref xb, c3), ref Unsafe.Add(ref gb, c3), ref Unsafe.Add(ref sb, s3), wa, wb, wc, wd, wsab, wscd);
        }

        Store4(y, t0 * yStride, ab0, cd0);
        Store4(y, (t0 + 1) * yStride, ab1, cd1);
        Store4(y, (t0 + 2) * yStride, ab2, cd2);
        Store4(y, (t0 + 3) * yStride, ab3, cd3);
    }

    /// <summary>
    /// Rows 0..3 × tokens [t0, t0 + 8): <see cref="Tile4x4Vnni512{TBlock}"/> with twice the tokens, so that each block's
    /// unpacking of 4 rows serves 8 tokens. 16 accumulators.
    /// <para>Addressing: a token's activation row and its starts are both 32 · blocks bytes long, and its scales
    /// 4 · blocks, so each block takes one byte pointer into each and reaches token k at base + k · stride (k = 1, 2
    /// and 3 from the stride and 3 · stride kept in registers, then again from base + 4 · stride). Written with int
    /// indices, the JIT recomputed and sign-extended every token's offset in every block (about 6 instructions of
    /// the ~30 per token): 86–90 → 101–104 G multiply-adds/s on one core (2048 × 2048, 64 tokens, Q4_0). Only
    /// addresses changed: each lane's integer and float operations are the same.</para>
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x8Vnni512<TBlock>(ReadOnlySpan<byte> rows, int rowBytes, int blocks, ReadOnlySpan<sbyte> xq,
                                               ReadOnlySpan<float> xScales, ReadOnlySpan<int> starts, ReadOnlySpan<float> minTerms,
                                               int t0, Span<float> y, int yStride)
        where TBlock : struct, IVnniBlock
    {
        ref byte ra = ref MemoryMarshal.GetReference(rows);
        nint rs = rowBytes, c = 32 * blocks, sc = 4 * blocks, c3 = 3 * c, s3 = 3 * sc;
        ref byte x0 = ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref MemoryMarshal.GetReference(xq), t0 * 32 * blocks));
        ref byte s0 = ref Unsafe.As<float, byte>(ref Unsafe.Add(ref MemoryMarshal.GetReference(xScales), t0 * blocks));
        ref byte g0 = ref TBlock.Offset == 0 ? ref s0 : ref Unsafe.As<int, byte>(ref Unsafe.Add(ref MemoryMarshal.GetReference(starts), t0 * 8 * blocks));
        ref float f16 = ref HalfBits.F16Table0;

        Vector512<float> ab0 = default, ab1 = default, ab2 = default, ab3 = default, ab4 = default, ab5 = default, ab6 = default, ab7 = default;
        Vector512<float> cd0 = default, cd1 = default, cd2 = default, cd3 = default, cd4 = default, cd5 = default, cd6 = default, cd7 = default;
        // Q4_K's min terms, one accumulator per row with the 8 tokens in its lanes: per block (dmin · m) · xs_t and the
        // FMA with the block sum, the reference's scalar steps for each (row, token).
        Vector256<float> na = default, nb = default, nc = default, nd = default;
        ref float mt = ref TBlock.HasMins ? ref Unsafe.Add(ref MemoryMarshal.GetReference(minTerms), t0 / 8 * 16 * blocks) : ref f16;
        for (int b = 0; b < blocks; b++)
        {
            TBlock.Unpack(ref ra, b, ref f16, out Vector256<byte> wa, out Vector256<float> wsa, out float dma);
            TBlock.Unpack(ref Unsafe.Add(ref ra, rs), b, ref f16, out Vector256<byte> wb, out Vector256<float> wsb, out float dmb);
            TBlock.Unpack(ref Unsafe.Add(ref ra, rs * 2), b, ref f16, out Vector256<byte> wc, out Vector256<float> wsc, out float dmc);
            TBlock.Unpack(ref Unsafe.Add(ref ra, rs * 2 + rs), b, ref f16, out Vector256<byte> wd, out Vector256<float> wsd, out float dmd);
            if (TBlock.HasMins)
            {
                Vector256<float> xs8 = Vector256.LoadUnsafe(ref mt), sum8 = Vector256.LoadUnsafe(ref mt, 8);
                na = Vector256.FusedMultiplyAdd(Vector256.Create(dma) * xs8, sum8, na);
                nb = Vector256.FusedMultiplyAdd(Vector256.Create(dmb) * xs8, sum8, nb);
                nc = Vector256.FusedMultiplyAdd(Vector256.Create(dmc) * xs8, sum8, nc);
                nd = Vector256.FusedMultiplyAdd(Vector256.Create(dmd) * xs8, sum8, nd);
                mt = ref Unsafe.Add(ref mt, 16);
            }
            Vector512<float> wsab = wsa.ToVector512Unsafe().WithUpper(wsb), wscd = wsc.ToVector512Unsafe().WithUpper(wsd);
            ref byte xb = ref Unsafe.Add(ref x0, 32 * b);
            ref byte gb = ref Unsafe.Add(ref g0, 32 * b);
            ref byte sb = ref Unsafe.Add(ref s0, 4 * b);
            Token4x512<TBlock>(ref ab0, ref cd0, ref xb, ref gb, ref sb, wa, wb, wc, wd, wsab, wscd);
            Token4x512<TBlock>(ref ab1, ref cd1, ref Unsafe.Add(ref xb, c), ref Unsafe.Add(ref gb, c), ref Unsafe.Add(ref sb, sc), wa, wb, wc, wd, wsab, wscd);
            Token4x512<TBlock>(ref ab2, ref cd2, ref Unsafe.Add(ref xb, c * 2), ref Unsafe.Add(ref gb, c * 2), ref Unsafe.Add(ref sb, sc * 2), wa, wb, wc, wd, wsab, wscd);
            Token4x512<TBlock>(ref ab3, ref cd3, ref Unsafe.Add(ref xb, c3), ref Unsafe.Add(ref gb, c3), ref Unsafe.Add(ref sb, s3), wa, wb, wc, wd, wsab, wscd);
            xb = ref Unsafe.Add(ref xb, c * 4);
            gb = ref Unsafe.Add(ref gb, c * 4);
            sb = ref Unsafe.Add(ref sb, sc * 4);
            Token4x512<TBlock>(ref ab4, ref cd4, ref xb, ref gb, ref sb, wa, wb, wc, wd, wsab, wscd);
            Token4x512<TBlock>(ref ab5, ref cd5, ref Unsafe.Add(ref xb, c), ref Unsafe.Add(ref gb, c), ref Unsafe.Add(ref sb, sc), wa, wb, wc, wd, wsab, wscd);
            Token4x512<TBlock>(ref ab6, ref cd6, ref Unsafe.Add(ref xb, c * 2), ref Unsafe.Add(ref gb, c * 2), ref Unsafe.Add(ref sb, sc * 2), wa, wb, wc, wd, wsab, wscd);
            Token4x512<TBlock>(ref ab7, ref cd7, ref Unsafe.Add(ref xb, c3), ref Unsafe.Add(ref gb, c3), ref Unsafe.Add(ref sb, s3), wa, wb, wc, wd, wsab, wscd);
        }

        Store4(y, t0 * yStride, ab0, cd0);
        Store4(y, (t0 + 1) * yStride, ab1, cd1);
        Store4(y, (t0 + 2) * yStride, ab2, cd2);
        Store4(y, (t0 + 3) * yStride, ab3, cd3);
        Store4(y, (t0 + 4) * yStride, ab4, cd4);
        Store4(y, (t0 + 5) * yStride, ab5, cd5);
        Store4(y, (t0 + 6) * yStride, ab6, cd6);
        Store4(y, (t0 + 7) * yStride, ab7, cd7);
        if (TBlock.HasMins)
        {
            for (int t = 0; t < 8; t++)
            {
                int at = (t0 + t) * yStride;
                y[at] -= na.GetElement(t);
                y[at + 1] -= nb.GetElement(t);
                y[at + 2] -= nc.GetElement(t);
                y[at + 3] -= nd.GetElement(t);
            }
        }
    }

    /// <summary>One token's block (activation, starts and scale at <paramref name="x"/>, <paramref name="g"/>, <paramref name="s"/>) against 4 rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Token4x512<TBlock>(ref Vector512<float> ab, ref Vector512<float> cd, ref byte x, ref byte g, ref byte s,
                                           Vector256<byte> wa, Vector256<byte> wb, Vector256<byte> wc, Vector256<byte> wd,
                                           Vector512<float> wsab, Vector512<float> wscd)
        where TBlock : struct, IVnniBlock
    {
        Vector256<sbyte> xb = Vector256.LoadUnsafe(ref Unsafe.As<byte, sbyte>(ref x));
        Vector256<int> start = TBlock.Offset == 0 ? Vector256<int>.Zero : Vector256.LoadUnsafe(ref Unsafe.As<byte, int>(ref g));
        Vector512<float> xsv = Vector512.Create(Unsafe.As<byte, float>(ref s));
        Vector512<int> pab = AvxVnni.MultiplyWideningAndAdd(start, wa, xb).ToVector512Unsafe().WithUpper(AvxVnni.MultiplyWideningAndAdd(start, wb, xb));
        Vector512<int> pcd = AvxVnni.MultiplyWideningAndAdd(start, wc, xb).ToVector512Unsafe().WithUpper(AvxVnni.MultiplyWideningAndAdd(start, wd, xb));
        ab = Vector512.FusedMultiplyAdd(wsab * xsv, Vector512.ConvertToSingle(pab), ab);
        cd = Vector512.FusedMultiplyAdd(wscd * xsv, Vector512.ConvertToSingle(pcd), cd);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4(Span<float> y, int at, Vector512<float> ab, Vector512<float> cd)
    {
        y[at] = Dot.Tree8(ab.GetLower());
        y[at + 1] = Dot.Tree8(ab.GetUpper());
        y[at + 2] = Dot.Tree8(cd.GetLower());
        y[at + 3] = Dot.Tree8(cd.GetUpper());
    }

    /// <summary>One token's block against rows a and b: two <c>vpdpbusd</c>, then one 512-bit conversion, product and FMA.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> TileToken512<TBlock>(Vector512<float> acc, ref sbyte x, ref int g, nuint xat, nuint gat, float xs,
                                                         Vector256<byte> wa, Vector256<byte> wb, Vector512<float> ws)
        where TBlock : struct, IVnniBlock
    {
        Vector256<sbyte> xb = Vector256.LoadUnsafe(ref x, xat);
        Vector256<int> start = TBlock.Offset == 0 ? Vector256<int>.Zero : Vector256.LoadUnsafe(ref g, gat);
        // ToVector512Unsafe + WithUpper: one insert, and no dependency on an earlier register's upper half.
        Vector512<int> p = AvxVnni.MultiplyWideningAndAdd(start, wa, xb).ToVector512Unsafe().WithUpper(AvxVnni.MultiplyWideningAndAdd(start, wb, xb));
        return Vector512.FusedMultiplyAdd(ws * Vector512.Create(xs), Vector512.ConvertToSingle(p), acc);
    }

    /// <summary>One token's block against two rows' unsigned weights: the activation load and start are shared.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TileTokenVnni<TBlock>(ref sbyte x, ref int g, nuint xat, nuint gat, float xs, Vector256<byte> wa, Vector256<float> wsa,
                                              Vector256<byte> wb, Vector256<float> wsb, ref Vector256<float> accA, ref Vector256<float> accB)
        where TBlock : struct, IVnniBlock
    {
        Vector256<sbyte> xb = Vector256.LoadUnsafe(ref x, xat);
        Vector256<int> start = TBlock.Offset == 0 ? Vector256<int>.Zero : Vector256.LoadUnsafe(ref g, gat);
        Vector256<float> xsv = Vector256.Create(xs);
        accA = Vector256.FusedMultiplyAdd(wsa * xsv, Vector256.ConvertToSingle(AvxVnni.MultiplyWideningAndAdd(start, wa, xb)), accA);
        accB = Vector256.FusedMultiplyAdd(wsb * xsv, Vector256.ConvertToSingle(AvxVnni.MultiplyWideningAndAdd(start, wb, xb)), accB);
    }

    /// <summary>starts[8 · (t · blocks + b) + j] = −offset · (group sum j of block b of token t), for all tokens.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScaledGroupSums(ReadOnlySpan<sbyte> xq, int blocks, int tokens, int offset, Span<int> starts)
    {
        GroupSums(xq, blocks * tokens, starts);
        ref int r = ref MemoryMarshal.GetReference(starts);
        Vector256<int> factor = Vector256.Create(-offset);
        for (int i = 0; i < blocks * tokens; i++) (Vector256.LoadUnsafe(ref r, (nuint)(8 * i)) * factor).StoreUnsafe(ref r, (nuint)(8 * i));
    }

    /// <summary>
    /// Four consecutive Q4_K rows against one activation with VNNI, a super-block at a time: each row's 8 scales and
    /// mins are unpacked once per super-block (8 bytes each, as in ggml's own unpacking) and turned into
    /// s_j = (d · sc_j) · xs_j and (dmin · m_j) · xs_j in two vector products each — the reference's float products, in
    /// its order, lane by lane — so that each sub-block's FMA takes its scale as a broadcast from memory instead of a
    /// product of its own (a quarter of the multiply pipes' work here); each 32-byte load of quants serves two
    /// sub-blocks (low nibbles, then high). Pointers advance per pair: int indices cost a lea and a sign extension
    /// per access.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Rows4Q4KVnni(ReadOnlySpan<byte> rows, int rowBytes, int blocks, ReadOnlySpan<sbyte> xq,
                                            ReadOnlySpan<float> xScales, ReadOnlySpan<int> xSums, Span<float> y)
    {
        ref byte r0 = ref MemoryMarshal.GetReference(rows);
        ref sbyte rx = ref MemoryMarshal.GetReference(xq);
        ref float rs = ref MemoryMarshal.GetReference(xScales);
        ref int rm = ref MemoryMarshal.GetReference(xSums);
        ref float f16 = ref HalfBits.F16Table0;
        float* dsc = stackalloc float[RowGroup * 8];   // row k, sub-block j: (d · sc) · xs, the scale s_j
        float* dmn = stackalloc float[RowGroup * 8];   // row k, sub-block j: (dmin · m) · xs
        nint rb = rowBytes, rb3 = 3 * rb;
        Vector256<float> a0 = Vector256<float>.Zero, a1 = Vector256<float>.Zero, a2 = Vector256<float>.Zero, a3 = Vector256<float>.Zero;
        float n0 = 0f, n1 = 0f, n2 = 0f, n3 = 0f;
        ref byte next = ref Unsafe.Add(ref r0, RowGroup * rowBytes);
        for (int sb = 0; sb < blocks / 8; sb++)
        {
            int at = sb * BlockQ4_K.Bytes;
            for (int o = RowGroup * at, end = o + RowGroup * BlockQ4_K.Bytes; o < end; o += 64) Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref next, o)));
            Vector256<float> xsv = Vector256.LoadUnsafe(ref rs, (nuint)(8 * sb));   // the 8 sub-blocks' activation scales
            for (int k = 0; k < RowGroup; k++)
            {
                ref byte blk = ref Unsafe.Add(ref r0, k * rowBytes + at);
                uint u0 = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref blk, 4));
                uint u1 = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref blk, 8));
                uint u2 = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref blk, 12));
                // BlockQ4_K.GetScaleMin for all 8 sub-blocks at once, 4 bytes at a time.
                ulong sc = (u0 & 0x3F3F3F3Fu) | ((ulong)((u2 & 0x0F0F0F0Fu) | (((u0 >> 6) & 0x03030303u) << 4)) << 32);
                ulong m = (u1 & 0x3F3F3F3Fu) | ((ulong)(((u2 >> 4) & 0x0F0F0F0Fu) | (((u1 >> 6) & 0x03030303u) << 4)) << 32);
                Vector256<float> scf = Vector256.ConvertToSingle(Avx2.ConvertToVector256Int32(Vector128.CreateScalar(sc).AsByte()));
                Vector256<float> mf = Vector256.ConvertToSingle(Avx2.ConvertToVector256Int32(Vector128.CreateScalar(m).AsByte()));
                ((Vector256.Create(HalfBits.F16At(ref f16, ref blk)) * scf) * xsv).Store(dsc + 8 * k);
                ((Vector256.Create(HalfBits.F16At(ref f16, ref Unsafe.Add(ref blk, 2))) * mf) * xsv).Store(dmn + 8 * k);
            }

            // Pointers advanced per pair (int indices cost a lea and a sign extension per access).
            ref byte qs = ref Unsafe.Add(ref r0, at + 16);
            ref sbyte xp = ref Unsafe.Add(ref rx, 256 * sb);
            ref int smp = ref Unsafe.Add(ref rm, 8 * sb);
            float* dp = dsc, mp = dmn;
            for (int pair = 0; pair < 4; pair++)
            {
                Vector256<sbyte> xlo = Vector256.LoadUnsafe(ref xp), xhi = Vector256.LoadUnsafe(ref Unsafe.Add(ref xp, 32));
                float sum0 = smp, sum1 = Unsafe.Add(ref smp, 1);
                a0 = Q4KPair(a0, ref qs, xlo, xhi, Vector256.Create(dp[0]), Vector256.Create(dp[1]));
                a1 = Q4KPair(a1, ref Unsafe.Add(ref qs, rb), xlo, xhi, Vector256.Create(dp[8]), Vector256.Create(dp[9]));
                a2 = Q4KPair(a2, ref Unsafe.Add(ref qs, rb * 2), xlo, xhi, Vector256.Create(dp[16]), Vector256.Create(dp[17]));
                a3 = Q4KPair(a3, ref Unsafe.Add(ref qs, rb3), xlo, xhi, Vector256.Create(dp[24]), Vector256.Create(dp[25]));
                n0 = MathF.FusedMultiplyAdd(mp[1], sum1, MathF.FusedMultiplyAdd(mp[0], sum0, n0));
                n1 = MathF.FusedMultiplyAdd(mp[9], sum1, MathF.FusedMultiplyAdd(mp[8], sum0, n1));
                n2 = MathF.FusedMultiplyAdd(mp[17], sum1, MathF.FusedMultiplyAdd(mp[16], sum0, n2));
                n3 = MathF.FusedMultiplyAdd(mp[25], sum1, MathF.FusedMultiplyAdd(mp[24], sum0, n3));
                qs = ref Unsafe.Add(ref qs, 32);
                xp = ref Unsafe.Add(ref xp, 64);
                smp = ref Unsafe.Add(ref smp, 2);
                dp += 2;
                mp += 2;
            }
        }

        y[0] = Dot.Tree8(a0) - n0;
        y[1] = Dot.Tree8(a1) - n1;
        y[2] = Dot.Tree8(a2) - n2;
        y[3] = Dot.Tree8(a3) - n3;
    }

    /// <summary>
    /// Four consecutive Q6_K rows against one activation with VNNI, a super-block at a time: each row's 16 sub-block
    /// scales become d · sc in two vector products (the reference's products lane by lane), and each half's 64 low-bit
    /// and 32 high-bit bytes are loaded once for its 4 chunks of 32, with constant shifts.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Rows4Q6KVnni(ReadOnlySpan<byte> rows, int rowBytes, int blocks, ReadOnlySpan<sbyte> xq,
                                            ReadOnlySpan<float> xScales, ReadOnlySpan<int> groupSums, Span<float> y)
    {
        ref byte r0 = ref MemoryMarshal.GetReference(rows);
        ref sbyte rx = ref MemoryMarshal.GetReference(xq);
        ref float rs = ref MemoryMarshal.GetReference(xScales);
        ref int rg = ref MemoryMarshal.GetReference(groupSums);
        ref float f16 = ref HalfBits.F16Table0;
        float* dsc = stackalloc float[RowGroup * 16];   // row k, 16-element sub-block j: d · sc
        Vector256<float> a0 = Vector256<float>.Zero, a1 = Vector256<float>.Zero, a2 = Vector256<float>.Zero, a3 = Vector256<float>.Zero;
        ref byte next = ref Unsafe.Add(ref r0, RowGroup * rowBytes);
        for (int sb = 0; sb < blocks / 8; sb++)
        {
            int at = sb * BlockQ6_K.Bytes;
            for (int o = RowGroup * at, end = o + RowGroup * BlockQ6_K.Bytes; o < end; o += 64) Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref next, o)));
            for (int k = 0; k < RowGroup; k++)
            {
                ref byte blk = ref Unsafe.Add(ref r0, k * rowBytes + at);
                Vector128<sbyte> sc = Vector128.LoadUnsafe(ref Unsafe.As<byte, sbyte>(ref Unsafe.Add(ref blk, BlockQ6_K.ScalesOffset)));
                Vector256<float> d = Vector256.Create(HalfBits.F16At(ref f16, ref Unsafe.Add(ref blk, BlockQ6_K.DOffset)));
                (d * Vector256.ConvertToSingle(Avx2.ConvertToVector256Int32(sc))).Store(dsc + 16 * k);
                (d * Vector256.ConvertToSingle(Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(sc, 8)))).Store(dsc + 16 * k + 8);
            }

            for (int half = 0; half < 2; half++)
            {
                int c0 = 4 * half;
                for (int t = 0; t < 4; t++)
                {
                    int b = 8 * sb + c0 + t;
                    Vector256<sbyte> xb = Vector256.LoadUnsafe(ref rx, (nuint)(32 * b));
                    Vector256<int> start = Vector256.LoadUnsafe(ref rg, (nuint)(8 * b)) * -Q6_KVnni.Offset;
                    Vector256<float> xsv = Vector256.Create(Unsafe.Add(ref rs, b));
                    int j = 2 * (c0 + t);
                    a0 = Q6KChunk(a0, ref Unsafe.Add(ref r0, at), half, t, xb, start, xsv, dsc[j], dsc[j + 1]);
                    a1 = Q6KChunk(a1, ref Unsafe.Add(ref r0, rowBytes + at), half, t, xb, start, xsv, dsc[16 + j], dsc[16 + j + 1]);
                    a2 = Q6KChunk(a2, ref Unsafe.Add(ref r0, 2 * rowBytes + at), half, t, xb, start, xsv, dsc[32 + j], dsc[32 + j + 1]);
                    a3 = Q6KChunk(a3, ref Unsafe.Add(ref r0, 3 * rowBytes + at), half, t, xb, start, xsv, dsc[48 + j], dsc[48 + j + 1]);
                }
            }
        }

        y[0] = Dot.Tree8(a0);
        y[1] = Dot.Tree8(a1);
        y[2] = Dot.Tree8(a2);
        y[3] = Dot.Tree8(a3);
    }

    /// <summary>Chunk t (0..3) of half <paramref name="half"/> of one Q6_K super-block: its 32 quants as unsigned 6-bit values, into the row's lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Q6KChunk(Vector256<float> acc, ref byte blk, int half, int t, Vector256<sbyte> xb, Vector256<int> start,
                                             Vector256<float> xsv, float dsc0, float dsc1)
    {
        Vector256<byte> ql = Vector256.LoadUnsafe(ref Unsafe.Add(ref blk, BlockQ6_K.QlOffset + 64 * half + 32 * (t & 1)));
        Vector256<byte> qh = Vector256.LoadUnsafe(ref Unsafe.Add(ref blk, BlockQ6_K.QhOffset + 32 * half));
        Vector256<byte> low = t < 2 ? ql & Vector256.Create((byte)0x0F) : Vector256.ShiftRightLogical(ql.AsUInt16(), 4).AsByte() & Vector256.Create((byte)0x0F);
        // The high 2 bits (qh >> 2t) & 3 go to bits 4..5: (qh << 4 >> 2t) & 0x30, one 16-bit shift each way.
        Vector256<byte> high = t switch
        {
            0 => Vector256.ShiftLeft(qh.AsUInt16(), 4).AsByte(),
            1 => Vector256.ShiftLeft(qh.AsUInt16(), 2).AsByte(),
            2 => qh,
            _ => Vector256.ShiftRightLogical(qh.AsUInt16(), 2).AsByte(),
        } & Vector256.Create((byte)0x30);
        Vector256<float> s = Vector256.Create(Vector128.Create(dsc0), Vector128.Create(dsc1)) * xsv;
        return Vector256.FusedMultiplyAdd(s, Vector256.ConvertToSingle(AvxVnni.MultiplyWideningAndAdd(start, low | high, xb)), acc);
    }

    /// <summary>Sub-blocks 2i (low nibbles of the 32 bytes at <paramref name="qs"/>) and 2i + 1 (high nibbles) of one Q4_K row, in that order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Q4KPair(Vector256<float> acc, ref byte qs, Vector256<sbyte> xlo, Vector256<sbyte> xhi,
                                            Vector256<float> s0, Vector256<float> s1)
    {
        Vector256<byte> packed = Vector256.LoadUnsafe(ref qs), low4 = Vector256.Create((byte)0x0F);
        Vector256<byte> q0 = packed & low4, q1 = Vector256.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & low4;
        acc = Vector256.FusedMultiplyAdd(s0, Vector256.ConvertToSingle(AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, q0, xlo)), acc);
        return Vector256.FusedMultiplyAdd(s1, Vector256.ConvertToSingle(AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, q1, xhi)), acc);
    }

    /// <summary>
    /// One 32-element block b of a row for <c>vpdpbusd</c>: its weights as unsigned bytes u = w + <see cref="Offset"/>,
    /// its per-lane weight scale (logical lane order) and, for Q4_K, dmin · m.
    /// </summary>
    private interface IVnniBlock
    {
        static abstract int Offset { get; }
        static abstract bool HasMins { get; }
        static abstract void Unpack(ref byte row, int b, ref float f16, out Vector256<byte> u, out Vector256<float> wscale, out float dm);
    }

    private struct Q8_0Vnni : IVnniBlock
    {
        public static int Offset => 128;
        public static bool HasMins => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Unpack(ref byte row, int b, ref float f16, out Vector256<byte> u, out Vector256<float> wscale, out float dm)
        {
            ref byte blk = ref Unsafe.Add(ref row, b * BlockQ8_0.Bytes);
            u = Vector256.LoadUnsafe(ref Unsafe.Add(ref blk, 2)) ^ Vector256.Create((byte)0x80);
            wscale = Vector256.Create(HalfBits.F16At(ref f16, ref blk));
            dm = 0f;
        }
    }

    private struct Q4_KVnni : IVnniBlock
    {
        public static int Offset => 0;
        public static bool HasMins => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Unpack(ref byte row, int b, ref float f16, out Vector256<byte> u, out Vector256<float> wscale, out float dm)
        {
            int sub = b & 7;
            ref byte blk = ref Unsafe.Add(ref row, (b >> 3) * BlockQ4_K.Bytes);
            ref byte scales = ref Unsafe.Add(ref blk, 4);
            int sc, m;
            if (sub < 4)
            {
                sc = Unsafe.Add(ref scales, sub) & 63;
                m = Unsafe.Add(ref scales, sub + 4) & 63;
            }
            else
            {
                int packed6 = Unsafe.Add(ref scales, sub + 4);
                sc = (packed6 & 0xF) | ((Unsafe.Add(ref scales, sub - 4) >> 6) << 4);
                m = (packed6 >> 4) | ((Unsafe.Add(ref scales, sub) >> 6) << 4);
            }
            Vector256<byte> packed = Vector256.LoadUnsafe(ref Unsafe.Add(ref blk, 16 + 32 * (sub >> 1)));
            u = ((sub & 1) == 0 ? packed : Vector256.ShiftRightLogical(packed.AsUInt16(), 4).AsByte()) & Vector256.Create((byte)0x0F);
            float d = HalfBits.F16At(ref f16, ref blk), dmin = HalfBits.F16At(ref f16, ref Unsafe.Add(ref blk, 2));
            wscale = Vector256.Create(d * sc);
            dm = dmin * m;
        }
    }

    private struct Q6_KVnni : IVnniBlock
    {
        public static int Offset => 32;
        public static bool HasMins => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Unpack(ref byte row, int b, ref float f16, out Vector256<byte> u, out Vector256<float> wscale, out float dm)
        {
            int c = b & 7, half = c >> 2, t = c & 3;
            ref byte blk = ref Unsafe.Add(ref row, (b >> 3) * BlockQ6_K.Bytes);
            ref sbyte scales = ref Unsafe.As<byte, sbyte>(ref Unsafe.Add(ref blk, BlockQ6_K.ScalesOffset));
            Vector256<byte> ql = Vector256.LoadUnsafe(ref Unsafe.Add(ref blk, BlockQ6_K.QlOffset + 64 * half + 32 * (t & 1)));
            Vector256<byte> qh = Vector256.LoadUnsafe(ref Unsafe.Add(ref blk, BlockQ6_K.QhOffset + 32 * half));
            Vector256<byte> low = t < 2 ? ql & Vector256.Create((byte)0x0F) : Vector256.ShiftRightLogical(ql, 4);
            Vector256<byte> high = Vector256.ShiftRightLogical(qh, 2 * t) & Vector256.Create((byte)3);
            u = low | Vector256.ShiftLeft(high, 4);
            float d = HalfBits.F16At(ref f16, ref Unsafe.Add(ref blk, BlockQ6_K.DOffset));
            float dsc0 = d * Unsafe.Add(ref scales, 2 * c);
            float dsc1 = d * Unsafe.Add(ref scales, 2 * c + 1);
            wscale = Vector256.Create(Vector128.Create(dsc0), Vector128.Create(dsc1));
            dm = 0f;
        }
    }
}
