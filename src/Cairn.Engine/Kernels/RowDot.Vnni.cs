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
/// (Q8_0: w XOR 0x80 = w + 128; Q4_0: the nibble q = w + 8; Q6_K: q = w + 32; Q4_K: q itself, c = 0), and the
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
        // The next four rows are prefetched in step with these (see Rows4).
        ref byte next = ref Unsafe.Add(ref r0, RowGroup * rowBytes);
        int step = RowGroup * (rowBytes / blocks);
        for (int b = 0; b < blocks; b++)
        {
            for (int o = b * step, end = o + step; o < end; o += 64) Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref next, o)));
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

    private struct Q4_0Vnni : IVnniBlock
    {
        public static int Offset => 8;
        public static bool HasMins => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Unpack(ref byte row, int b, ref float f16, out Vector256<byte> u, out Vector256<float> wscale, out float dm)
        {
            ref byte blk = ref Unsafe.Add(ref row, b * BlockQ4_0.Bytes);
            Vector128<byte> packed = Vector128.LoadUnsafe(ref Unsafe.Add(ref blk, 2));
            // [packed | packed], the upper half shifted right by 4 (bits crossing into a byte are masked off).
            Vector256<uint> both = Vector256.Create(packed, packed).AsUInt32();
            u = Avx2.ShiftRightLogicalVariable(both, Vector256.Create(0u, 0, 0, 0, 4, 4, 4, 4)).AsByte() & Vector256.Create((byte)0x0F);
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
