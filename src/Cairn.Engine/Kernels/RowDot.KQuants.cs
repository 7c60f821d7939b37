using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Cairn.Engine.Kernels.Blocks;

namespace Cairn.Engine.Kernels;

/// <summary>
/// K-quant decode with AVX2 (and AVX-VNNI where present: see <see cref="DotU8S8"/>), eight rows per pass. The per-super-block float work of
/// <see cref="Reference.ReferenceRowDot"/> — d · sc, (d · sc) · xScales[b], and for Q4_K dmin · m and the mins chain —
/// is done with the rows in the lanes of one vector (lane k = row k), so each of those products is one lane of one
/// vector operation instead of a scalar operation per row: the same IEEE products in the same order, lane by lane.
/// The quants then go through <see cref="DotU8S8"/> (<c>vpdpbusd</c>, or its exact AVX2 equivalent) row by row.
/// </summary>
public static partial class RowDot
{
    /// <summary>Rows one pass of the eight-row K-quant kernels keeps in registers.</summary>
    private const int KRowGroup = 8;

    /// <summary>
    /// Eight consecutive Q4_K rows against one activation, a super-block at a time. The 16 header bytes
    /// (d, dmin, 12 bytes of packed scales and mins) of the eight rows are loaded and transposed into four vectors
    /// of one dword per row; d and dmin are converted by a gather from the f16 table (the same bits as
    /// <see cref="HalfBits.F16At"/>), the 6-bit scales and mins unpacked as in <see cref="Blocks.BlockQ4_K.GetScaleMin"/>.
    /// For sub-block j, lane k holds row k's (d · sc_j) · xScales[b] (kept on the stack and broadcast into the
    /// row's FMA) and row k's mins chain: mins_k = fma((dmin · m_j) · xScales[b], xSums[b], mins_k).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Rows8Q4K(ReadOnlySpan<byte> rows, int rowBytes, int blocks, ReadOnlySpan<sbyte> xq,
                                            ReadOnlySpan<float> xScales, ReadOnlySpan<int> xSums, Span<float> y)
    {
        ref byte r0 = ref MemoryMarshal.GetReference(rows);
        ref sbyte rx = ref MemoryMarshal.GetReference(xq);
        ref float rs = ref MemoryMarshal.GetReference(xScales);
        ref int rm = ref MemoryMarshal.GetReference(xSums);
        ref float f16 = ref HalfBits.F16Table0;
        float* s = stackalloc float[8 * KRowGroup];   // sub-block j, row k: (d · sc) · xScales[b]
        Vector256<float>* acc = stackalloc Vector256<float>[KRowGroup];
        for (int k = 0; k < KRowGroup; k++) acc[k] = Vector256<float>.Zero;
        Vector256<float> mins = Vector256<float>.Zero;
        Vector256<int> lowByte = Vector256.Create(0xFF);
        ref byte next = ref Unsafe.Add(ref r0, KRowGroup * rowBytes);
        fixed (float* table = &f16)
        {
            for (int sb = 0; sb < blocks / 8; sb++)
            {
                int at = sb * BlockQ4_K.Bytes;
                // The next eight rows (contiguous with these) are prefetched in step (see Rows4).
                for (int o = KRowGroup * at, end = o + KRowGroup * BlockQ4_K.Bytes; o < end; o += 64) Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref next, o)));

                Q4KHeaders(ref Unsafe.Add(ref r0, at), rowBytes, out Vector256<int> dd, out Vector256<int> u0, out Vector256<int> u1, out Vector256<int> u2);
                Vector256<float> d = Avx2.GatherVector256(table, dd & Vector256.Create(0xFFFF), 4);
                Vector256<float> dmin = Avx2.GatherVector256(table, Vector256.ShiftRightLogical(dd, 16), 4);
                // BlockQ4_K.GetScaleMin: sub-blocks 0..3 in the bytes of *Lo, 4..7 in those of *Hi (byte j & 3).
                Vector256<int> sixBits = Vector256.Create(0x3F3F3F3F), fourBits = Vector256.Create(0x0F0F0F0F), twoBits = Vector256.Create(0x03030303);
                Vector256<int> scLo = u0 & sixBits, mLo = u1 & sixBits;
                Vector256<int> scHi = (u2 & fourBits) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(u0, 6) & twoBits, 4);
                Vector256<int> mHi = (Vector256.ShiftRightLogical(u2, 4) & fourBits) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(u1, 6) & twoBits, 4);
                for (int j = 0; j < 8; j++)
                {
                    int b = 8 * sb + j;
                    Vector256<float> xsv = Vector256.Create(Unsafe.Add(ref rs, b));
                    Vector256<float> sc = Vector256.ConvertToSingle(scLo & lowByte), m = Vector256.ConvertToSingle(mLo & lowByte);
                    (d * sc * xsv).Store(s + 8 * j);
                    mins = Vector256.FusedMultiplyAdd(dmin * m * xsv, Vector256.Create((float)Unsafe.Add(ref rm, b)), mins);
                    // Next sub-block's byte down to bits 0..7; after the fourth, the Hi words.
                    scLo = j == 3 ? scHi : Vector256.ShiftRightLogical(scLo, 8);
                    mLo = j == 3 ? mHi : Vector256.ShiftRightLogical(mLo, 8);
                }

                // Row by row, the super-block's 8 activation blocks in registers; the row's accumulator takes its 8
                // sub-blocks in order.
                int x0 = 32 * 8 * sb;
                Vector256<sbyte> xb0 = Vector256.LoadUnsafe(ref rx, (nuint)x0), xb1 = Vector256.LoadUnsafe(ref rx, (nuint)(x0 + 32));
                Vector256<sbyte> xb2 = Vector256.LoadUnsafe(ref rx, (nuint)(x0 + 64)), xb3 = Vector256.LoadUnsafe(ref rx, (nuint)(x0 + 96));
                Vector256<sbyte> xb4 = Vector256.LoadUnsafe(ref rx, (nuint)(x0 + 128)), xb5 = Vector256.LoadUnsafe(ref rx, (nuint)(x0 + 160));
                Vector256<sbyte> xb6 = Vector256.LoadUnsafe(ref rx, (nuint)(x0 + 192)), xb7 = Vector256.LoadUnsafe(ref rx, (nuint)(x0 + 224));
                for (int k = 0; k < KRowGroup; k++)
                {
                    ref byte qs = ref Unsafe.Add(ref r0, k * rowBytes + at + 16);
                    float* sk = s + k;
                    Vector256<float> a = acc[k];
                    a = Q4KPair8(a, ref qs, xb0, xb1, Vector256.Create(sk[0]), Vector256.Create(sk[8]));
                    a = Q4KPair8(a, ref Unsafe.Add(ref qs, 32), xb2, xb3, Vector256.Create(sk[16]), Vector256.Create(sk[24]));
                    a = Q4KPair8(a, ref Unsafe.Add(ref qs, 64), xb4, xb5, Vector256.Create(sk[32]), Vector256.Create(sk[40]));
                    a = Q4KPair8(a, ref Unsafe.Add(ref qs, 96), xb6, xb7, Vector256.Create(sk[48]), Vector256.Create(sk[56]));
                    acc[k] = a;
                }
            }
        }

        for (int k = 0; k < KRowGroup; k++) y[k] = Dot.Tree8(acc[k]) - mins.GetElement(k);
    }

    /// <summary>
    /// Eight consecutive Q6_K rows against one activation, a half super-block (4 chunks of 32) at a time:
    /// the 4 chunks' activation bytes and group-sum corrections are loaded once for the 8 rows; per row, the half's 8
    /// sub-block scales become (d · sc) · xScales[b] in one vector product each way (the reference's products, lane by
    /// lane, each 16-element sub-block's lane holding its chunk's activation scale), each chunk picks its pair of
    /// scales with one permutation, and the row's accumulator takes the 4 chunks in order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Rows8Q6K(ReadOnlySpan<byte> rows, int rowBytes, int blocks, ReadOnlySpan<sbyte> xq,
                                        ReadOnlySpan<float> xScales, Span<float> y)
    {
        ref byte r0 = ref MemoryMarshal.GetReference(rows);
        ref sbyte rx = ref MemoryMarshal.GetReference(xq);
        ref float rs = ref MemoryMarshal.GetReference(xScales);
        Vector256<byte> ones = Vector256.Create((byte)1);
        ref float f16 = ref HalfBits.F16Table0;
        Vector256<float>* acc = stackalloc Vector256<float>[KRowGroup];
        for (int k = 0; k < KRowGroup; k++) acc[k] = Vector256<float>.Zero;
        Vector256<int> spread = Vector256.Create(0, 0, 1, 1, 2, 2, 3, 3);
        Vector256<int> pick0 = Vector256.Create(0, 0, 0, 0, 1, 1, 1, 1), two = Vector256.Create(2);
        Vector256<int> pick1 = pick0 + two, pick2 = pick1 + two, pick3 = pick2 + two;
        ref byte next = ref Unsafe.Add(ref r0, KRowGroup * rowBytes);
        for (int sb = 0; sb < blocks / 8; sb++)
        {
            int at = sb * BlockQ6_K.Bytes;
            for (int o = KRowGroup * at, end = o + KRowGroup * BlockQ6_K.Bytes; o < end; o += 64) Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref next, o)));
            for (int half = 0; half < 2; half++)
            {
                int c0 = 8 * sb + 4 * half;
                // Lane i: the activation scale of sub-block i's chunk, xScales[c0 + i / 2].
                Vector256<float> xsx = Avx2.PermuteVar8x32(Vector128.LoadUnsafe(ref rs, (nuint)c0).ToVector256Unsafe(), spread);
                Vector256<sbyte> x0 = Vector256.LoadUnsafe(ref rx, (nuint)(32 * c0)), x1 = Vector256.LoadUnsafe(ref rx, (nuint)(32 * c0 + 32));
                Vector256<sbyte> x2 = Vector256.LoadUnsafe(ref rx, (nuint)(32 * c0 + 64)), x3 = Vector256.LoadUnsafe(ref rx, (nuint)(32 * c0 + 96));
                // −32 · (sums of 4 activation bytes): quants go in as w + 32.
                Vector256<int> g0 = DotU8S8(Vector256<int>.Zero, ones, x0) * -32, g1 = DotU8S8(Vector256<int>.Zero, ones, x1) * -32;
                Vector256<int> g2 = DotU8S8(Vector256<int>.Zero, ones, x2) * -32, g3 = DotU8S8(Vector256<int>.Zero, ones, x3) * -32;
                for (int k = 0; k < KRowGroup; k++)
                {
                    ref byte blk = ref Unsafe.Add(ref r0, k * rowBytes + at);
                    Vector128<sbyte> sc8 = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<long>(ref Unsafe.Add(ref blk, BlockQ6_K.ScalesOffset + 8 * half))).AsSByte();
                    Vector256<float> d = Vector256.Create(HalfBits.F16At(ref f16, ref Unsafe.Add(ref blk, BlockQ6_K.DOffset)));
                    Vector256<float> s = d * Vector256.ConvertToSingle(Avx2.ConvertToVector256Int32(sc8)) * xsx;
                    ref byte ql = ref Unsafe.Add(ref blk, BlockQ6_K.QlOffset + 64 * half);
                    Vector256<byte> qh = Vector256.LoadUnsafe(ref Unsafe.Add(ref blk, BlockQ6_K.QhOffset + 32 * half));
                    Vector256<byte> ql0 = Vector256.LoadUnsafe(ref ql), ql1 = Vector256.LoadUnsafe(ref ql, 32);
                    Vector256<byte> low4 = Vector256.Create((byte)0x0F), high2 = Vector256.Create((byte)0x30);
                    // Chunk t: low 4 bits from ql (t & 1 picks the 32 bytes, t >> 1 the nibble), bits 4..5 = (qh >> 2t) & 3.
                    Vector256<float> a = acc[k];
                    a = Q6KChunk8(a, (ql0 & low4) | (Vector256.ShiftLeft(qh.AsUInt16(), 4).AsByte() & high2), x0, g0, Avx2.PermuteVar8x32(s, pick0));
                    a = Q6KChunk8(a, (ql1 & low4) | (Vector256.ShiftLeft(qh.AsUInt16(), 2).AsByte() & high2), x1, g1, Avx2.PermuteVar8x32(s, pick1));
                    a = Q6KChunk8(a, (Vector256.ShiftRightLogical(ql0.AsUInt16(), 4).AsByte() & low4) | (qh & high2), x2, g2, Avx2.PermuteVar8x32(s, pick2));
                    a = Q6KChunk8(a, (Vector256.ShiftRightLogical(ql1.AsUInt16(), 4).AsByte() & low4) | (Vector256.ShiftRightLogical(qh.AsUInt16(), 2).AsByte() & high2), x3, g3, Avx2.PermuteVar8x32(s, pick3));
                    acc[k] = a;
                }
            }
        }

        for (int k = 0; k < KRowGroup; k++) y[k] = Dot.Tree8(acc[k]);
    }

    /// <summary>One chunk of 32 Q6_K quants <paramref name="u"/> (unsigned 6-bit, w + 32) into a row's lanes, with per-lane scale <paramref name="s"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Q6KChunk8(Vector256<float> acc, Vector256<byte> u, Vector256<sbyte> xb, Vector256<int> start, Vector256<float> s) =>
        Vector256.FusedMultiplyAdd(s, Vector256.ConvertToSingle(DotU8S8(start, u, xb)), acc);

    /// <summary>Sub-blocks 2i (low nibbles of the 32 bytes at <paramref name="qs"/>) and 2i + 1 (high nibbles) of one Q4_K row, in that order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Q4KPair8(Vector256<float> acc, ref byte qs, Vector256<sbyte> xlo, Vector256<sbyte> xhi,
                                             Vector256<float> s0, Vector256<float> s1)
    {
        Vector256<byte> packed = Vector256.LoadUnsafe(ref qs), low4 = Vector256.Create((byte)0x0F);
        Vector256<byte> q0 = packed & low4, q1 = Vector256.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & low4;
        acc = Vector256.FusedMultiplyAdd(s0, Vector256.ConvertToSingle(DotU8S8(Vector256<int>.Zero, q0, xlo)), acc);
        return Vector256.FusedMultiplyAdd(s1, Vector256.ConvertToSingle(DotU8S8(Vector256<int>.Zero, q1, xhi)), acc);
    }

    /// <summary>
    /// start_j + Σ_{k=0..3} u[4j + k] · x[4j + k] for j = 0..7, u unsigned and at most 63: <c>vpdpbusd</c>, or with AVX2
    /// alone <c>vpmaddubsw</c> (sums of 2 products, exact in int16: |2 · 63 · 128| &lt; 2^15) then <c>vpmaddwd</c> by 1
    /// (sums of 4, int32). The same integers either way.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> DotU8S8(Vector256<int> start, Vector256<byte> u, Vector256<sbyte> x)
    {
        if (AvxVnni.IsSupported) return AvxVnni.MultiplyWideningAndAdd(start, u, x);
        return start + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, x), Vector256<short>.One);
    }

    /// <summary>
    /// The first 16 bytes of one super-block of eight rows (row k at <paramref name="blk"/> + k · rowBytes) as four
    /// vectors of one dword per row, lane k = row k: dword 0 (d, dmin), 1, 2, 3 (the 12 bytes of scales and mins).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q4KHeaders(ref byte blk, int rowBytes, out Vector256<int> dd, out Vector256<int> u0, out Vector256<int> u1, out Vector256<int> u2)
    {
        // t_k: rows k and k + 4 side by side; the 4 × 4 dword transpose in each 128-bit half puts rows 0..3 in the
        // lower half and rows 4..7 in the upper one.
        Vector256<int> t0 = Vector256.Create(Vector128.LoadUnsafe(ref blk), Vector128.LoadUnsafe(ref Unsafe.Add(ref blk, 4 * rowBytes))).AsInt32();
        Vector256<int> t1 = Vector256.Create(Vector128.LoadUnsafe(ref Unsafe.Add(ref blk, rowBytes)), Vector128.LoadUnsafe(ref Unsafe.Add(ref blk, 5 * rowBytes))).AsInt32();
        Vector256<int> t2 = Vector256.Create(Vector128.LoadUnsafe(ref Unsafe.Add(ref blk, 2 * rowBytes)), Vector128.LoadUnsafe(ref Unsafe.Add(ref blk, 6 * rowBytes))).AsInt32();
        Vector256<int> t3 = Vector256.Create(Vector128.LoadUnsafe(ref Unsafe.Add(ref blk, 3 * rowBytes)), Vector128.LoadUnsafe(ref Unsafe.Add(ref blk, 7 * rowBytes))).AsInt32();
        Vector256<long> lo01 = Avx2.UnpackLow(t0, t1).AsInt64(), hi01 = Avx2.UnpackHigh(t0, t1).AsInt64();
        Vector256<long> lo23 = Avx2.UnpackLow(t2, t3).AsInt64(), hi23 = Avx2.UnpackHigh(t2, t3).AsInt64();
        dd = Avx2.UnpackLow(lo01, lo23).AsInt32();
        u0 = Avx2.UnpackHigh(lo01, lo23).AsInt32();
        u1 = Avx2.UnpackLow(hi01, hi23).AsInt32();
        u2 = Avx2.UnpackHigh(hi01, hi23).AsInt32();
    }
}
