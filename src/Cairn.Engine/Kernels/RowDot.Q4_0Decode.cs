using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Cairn.Engine.Kernels.Blocks;

namespace Cairn.Engine.Kernels;

/// <summary>
/// Q4_0 decode: 8 rows per pass against one activation, the 8 rows' accumulators in the lanes of one vector.
/// <para>Per block b, rows k and k + 4 share one 256-bit register: row k's 16 packed bytes in the low half, row k + 4's
/// in the high half. Its low nibbles are elements 0..15 of both rows and its high nibbles elements 16..31, so against
/// [x0..15 | x0..15] and [x16..31 | x16..31] (each half of the activation block broadcast to both halves) two u8 × s8 dot
/// products of 4 give row k's sum in lanes 0..3 and row k + 4's in lanes 4..7. The nibbles are unsigned (q = w + 8),
/// so the int32 lanes start at −8 · Σx (spread over 4 lanes per half), which makes each row's 4 lanes add up to exactly
/// P_b = Σ (q − 8) · x. Three vphaddd of the 4 registers (rows (0,4), (1,5), (2,6), (3,7)) leave lane r = P_b of row r.
/// Then the reference's float steps, lane by lane: s = d_r · xs (one product), acc_r = fma(s, (float)P_b, acc_r).</para>
/// <para>All integer work is exact (|P_b| ≤ 32 · 8 · 128), so each lane is bit-identical to
/// <see cref="Reference.ReferenceRowDot"/>'s Q4_0 order on its row.</para>
/// </summary>
public static partial class RowDot
{
    /// <summary>Rows one pass of the Q4_0 decode kernel keeps in the lanes of its accumulator.</summary>
    private const int Q4_0RowGroup = 8;

    /// <summary>Blocks up to which the per-block start vectors are precomputed on the stack (32 bytes each).</summary>
    private const int Q4_0StackStarts = 512;

    /// <summary>starts[8b ..] = −8 · (the 4-element group sums of [x_b0..15 | x_b0..15] and [x_b16..31 | x_b16..31]):
    /// each 4-lane half adds up to −8 · Σ_{k&lt;32} x_k of block b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Q4_0Starts<TDot>(ReadOnlySpan<sbyte> xq, int blocks, Span<int> starts) where TDot : struct, IDot4
    {
        Vector256<byte> eights = Vector256.Create((byte)8);
        fixed (sbyte* x0 = xq)
        fixed (int* s0 = starts)
        {
            for (int b = 0; b < blocks; b++)
            {
                Vector256<sbyte> xlo = Avx2.BroadcastVector128ToVector256(x0 + 32 * b);
                Vector256<sbyte> xhi = Avx2.BroadcastVector128ToVector256(x0 + 32 * b + 16);
                (Vector256<int>.Zero - TDot.Dot(Vector256<int>.Zero, eights, xlo, eights, xhi)).Store(s0 + 8 * b);
            }
        }
    }

    /// <summary>Decode: rows [0, n) of <paramref name="rows"/> against one activation; returns how many rows it wrote
    /// (the caller computes the rest one by one).</summary>
    [SkipLocalsInit]
    private static int Q4_0Rows(ReadOnlySpan<byte> rows, int rowCount, int rowBytes, int blocks, ReadOnlySpan<sbyte> xq,
                                ReadOnlySpan<float> xScales, Span<float> y)
    {
        int done = 0;
        if (blocks == 0 || rowCount < Q4_0RowGroup) return 0;
        // Each block's start vector serves every pass: computed once per call where the stack holds them (rows up to
        // 16384 columns), else by each pass as it goes (the same integers either way).
        bool pre = blocks <= Q4_0StackStarts;
        Span<int> starts = pre ? stackalloc int[8 * blocks] : default;
        if (KernelOptions.UseVnni)
        {
            if (pre) Q4_0Starts<DotVnni>(xq, blocks, starts);
            for (; done + Q4_0RowGroup <= rowCount; done += Q4_0RowGroup)
                Q4_0Rows8<DotVnni>(rows.Slice(done * rowBytes, Q4_0RowGroup * rowBytes), rowBytes, blocks, xq, xScales, starts, y.Slice(done, Q4_0RowGroup));
        }
        else if (KernelOptions.UseAvx2)
        {
            if (pre) Q4_0Starts<DotAvx2>(xq, blocks, starts);
            for (; done + Q4_0RowGroup <= rowCount; done += Q4_0RowGroup)
                Q4_0Rows8<DotAvx2>(rows.Slice(done * rowBytes, Q4_0RowGroup * rowBytes), rowBytes, blocks, xq, xScales, starts, y.Slice(done, Q4_0RowGroup));
        }
        return done;
    }

    /// <summary>Eight consecutive Q4_0 rows against one activation (see the class summary); y[0..8) = their dots.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Q4_0Rows8<TDot>(ReadOnlySpan<byte> rows, int rowBytes, int blocks, ReadOnlySpan<sbyte> xq,
                                               ReadOnlySpan<float> xScales, ReadOnlySpan<int> starts, Span<float> y)
        where TDot : struct, IDot4
    {
        ref float f16 = ref HalfBits.F16Table0;
        nint rb = rowBytes, rb3 = 3 * rb;
        Vector256<byte> low4 = Vector256.Create((byte)0x0F), eights = Vector256.Create((byte)8);
        Vector256<float> acc = Vector256<float>.Zero;
        fixed (byte* r0 = rows)
        fixed (sbyte* x0 = xq)
        fixed (float* s0 = xScales)
        fixed (int* g0 = starts)
        {
            bool pre = g0 != null;
            int* gp = g0;
            // Eight rows read side by side look like no stream to the hardware prefetcher (see Rows4), so the next 8
            // rows (contiguous with these) are prefetched in step: each block moves 8 · 18 bytes of these rows, and as
            // many bytes of the next group are requested (3 lines, overlapping the next block's by up to 48 bytes).
            // prefetchnta, not prefetcht0: the next group is a whole pass away (8 rows, 9 KB at 2048 columns, 25 KB
            // at 5632), and pulled into L1 that far ahead it evicted the current rows (measured, 2 threads: t0 at times
            // slower than no prefetch at all; nta the fastest of t0/t1/t2/nta, 1 and 2 threads).
            byte* next = r0 + Q4_0RowGroup * rb;
            byte* p = r0, p4 = r0 + 4 * rb;      // block b of rows 0 and 4
            sbyte* xp = x0;
            float* sp = s0, end = s0 + blocks;
            const int Step = Q4_0RowGroup * BlockQ4_0.Bytes;
            while (sp < end)
            {
                Sse.PrefetchNonTemporal(next);
                Sse.PrefetchNonTemporal(next + 64);
                Sse.PrefetchNonTemporal(next + 128);
                next += Step;

                Vector256<sbyte> xlo = Avx2.BroadcastVector128ToVector256(xp);
                Vector256<sbyte> xhi = Avx2.BroadcastVector128ToVector256(xp + 16);
                Vector256<int> start = pre ? Avx.LoadVector256(gp) : Vector256<int>.Zero - TDot.Dot(Vector256<int>.Zero, eights, xlo, eights, xhi);

                Vector256<int> v0 = Pair(p + 2, p4 + 2, low4, start, xlo, xhi);
                Vector256<int> v1 = Pair(p + rb + 2, p4 + rb + 2, low4, start, xlo, xhi);
                Vector256<int> v2 = Pair(p + 2 * rb + 2, p4 + 2 * rb + 2, low4, start, xlo, xhi);
                Vector256<int> v3 = Pair(p + rb3 + 2, p4 + rb3 + 2, low4, start, xlo, xhi);
                // [r0 r0 r1 r1 | r4 r4 r5 r5], [r2 r2 r3 r3 | r6 r6 r7 r7], then [r0 r1 r2 r3 | r4 r5 r6 r7].
                Vector256<int> sums = Avx2.HorizontalAdd(Avx2.HorizontalAdd(v0, v1), Avx2.HorizontalAdd(v2, v3));

                Vector256<float> d = Vector256.Create(
                    HalfBits.F16At(ref f16, ref *p), HalfBits.F16At(ref f16, ref *(p + rb)),
                    HalfBits.F16At(ref f16, ref *(p + 2 * rb)), HalfBits.F16At(ref f16, ref *(p + rb3)),
                    HalfBits.F16At(ref f16, ref *p4), HalfBits.F16At(ref f16, ref *(p4 + rb)),
                    HalfBits.F16At(ref f16, ref *(p4 + 2 * rb)), HalfBits.F16At(ref f16, ref *(p4 + rb3)));
                acc = Vector256.FusedMultiplyAdd(d * Vector256.Create(*sp), Vector256.ConvertToSingle(sums), acc);

                p += BlockQ4_0.Bytes;
                p4 += BlockQ4_0.Bytes;
                xp += 32;
                sp++;
                gp += 8;
            }
        }

        acc.StoreUnsafe(ref MemoryMarshal.GetReference(y));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static Vector256<int> Pair(byte* lo, byte* hi, Vector256<byte> low4, Vector256<int> start, Vector256<sbyte> xlo, Vector256<sbyte> xhi)
        {
            Vector256<byte> packed = Avx2.InsertVector128(Sse2.LoadVector128(lo).ToVector256Unsafe(), Sse2.LoadVector128(hi), 1);
            Vector256<byte> q0 = packed & low4;
            Vector256<byte> q1 = Vector256.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & low4;
            return TDot.Dot(start, q0, xlo, q1, xhi);
        }
    }

    /// <summary>acc + the u8 × s8 dot products of 4 per int32 lane, of (u, x) or of (u0, x0) and (u1, x1) (exact for u ≤ 15).
    /// The Q4_0 decode and prefill kernels are generic over it: AVX-VNNI or plain AVX2.</summary>
    private interface IDot4
    {
        static abstract Vector256<int> Dot(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> x);
        static abstract Vector256<int> Dot(Vector256<int> acc, Vector256<byte> u0, Vector256<sbyte> x0, Vector256<byte> u1, Vector256<sbyte> x1);
    }

    /// <summary><c>vpdpbusd</c> twice (AVX-VNNI).</summary>
    private struct DotVnni : IDot4
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> x) => AvxVnni.MultiplyWideningAndAdd(acc, u, x);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot(Vector256<int> acc, Vector256<byte> u0, Vector256<sbyte> x0, Vector256<byte> u1, Vector256<sbyte> x1) =>
            AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(acc, u0, x0), u1, x1);
    }

    /// <summary>AVX2: <c>vpmaddubsw</c> (u8 × s8 pairs to int16; with u ≤ 15 a pair is at most 15 · 128 · 2 = 3840, and
    /// the two products' pairs added at most 7680: no saturation), then <c>vpmaddwd</c> with ones to int32.</summary>
    private struct DotAvx2 : IDot4
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> x) =>
            acc + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, x), Vector256.Create((short)1));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot(Vector256<int> acc, Vector256<byte> u0, Vector256<sbyte> x0, Vector256<byte> u1, Vector256<sbyte> x1) =>
            acc + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u0, x0) + Avx2.MultiplyAddAdjacent(u1, x1), Vector256.Create((short)1));
    }
}
