using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Cairn.Engine.Kernels.Blocks;
using Cairn.Engine.Tensors;

namespace Cairn.Engine.Kernels;

/// <summary>
/// The quantized rows with 128-bit vectors only (SSE4 without AVX2, ARM64 NEON), written with the cross-platform
/// <see cref="Vector128"/> API: each block's integer weights are widened to int16 and multiplied by the widened
/// activation bytes (|w|, |x| ≤ 128: every product fits), the products widened to int32 four at a time — which are
/// exactly the 4 elements of one partial sum P_j — and summed; the float steps are <see cref="ReferenceRowDot"/>'s,
/// lanes 0..3 and 4..7 in two 128-bit accumulators (Q4_0: the block's one exact sum and one scalar FMA).
/// </summary>
public static partial class RowDot
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Quantized128(GgmlType type, ReadOnlySpan<byte> row, int cols, ReadOnlySpan<sbyte> xq,
                                      ReadOnlySpan<float> xScales, ReadOnlySpan<int> xSums)
    {
        ref byte rw = ref MemoryMarshal.GetReference(row);
        ref sbyte rx = ref MemoryMarshal.GetReference(xq);
        ref float f16 = ref HalfBits.F16Table0;
        int blocks = cols / 32;
        Vector128<float> lo = Vector128<float>.Zero, hi = Vector128<float>.Zero;
        float mins = 0f, one = 0f;
        Vector128<sbyte> eight = Vector128.Create((sbyte)8), low4 = Vector128.Create((sbyte)0x0F);
        for (int b = 0; b < blocks; b++)
        {
            ref sbyte x = ref Unsafe.Add(ref rx, 32 * b);
            Vector128<sbyte> x0 = Vector128.LoadUnsafe(ref x), x1 = Vector128.LoadUnsafe(ref x, 16);
            float xs = xScales[b];
            switch (type)
            {
                case GgmlType.Q8_0:
                    {
                        ref byte blk = ref Unsafe.Add(ref rw, b * BlockQ8_0.Bytes);
                        ref sbyte q = ref Unsafe.As<byte, sbyte>(ref Unsafe.Add(ref blk, 2));
                        Vector128<float> s = Vector128.Create(HalfBits.F16At(ref f16, ref blk) * xs);
                        Partials(Vector128.LoadUnsafe(ref q), Vector128.LoadUnsafe(ref q, 16), x0, x1, out Vector128<int> p0, out Vector128<int> p1);
                        lo = Vector128.FusedMultiplyAdd(s, Vector128.ConvertToSingle(p0), lo);
                        hi = Vector128.FusedMultiplyAdd(s, Vector128.ConvertToSingle(p1), hi);
                        break;
                    }
                case GgmlType.Q4_0:
                    {
                        ref byte blk = ref Unsafe.Add(ref rw, b * BlockQ4_0.Bytes);
                        Vector128<sbyte> packed = Vector128.LoadUnsafe(ref Unsafe.Add(ref blk, 2)).AsSByte();
                        Vector128<sbyte> w0 = (packed & low4) - eight;
                        Vector128<sbyte> w1 = Vector128.ShiftRightLogical(packed.AsByte(), 4).AsSByte() - eight;
                        Partials(w0, w1, x0, x1, out Vector128<int> p0, out Vector128<int> p1);
                        int p = Vector128.Sum(p0 + p1);
                        one = MathF.FusedMultiplyAdd(HalfBits.F16At(ref f16, ref blk) * xs, p, one);
                        break;
                    }
                case GgmlType.Q4_K:
                    {
                        int sub = b & 7;
                        ref byte blk = ref Unsafe.Add(ref rw, (b >> 3) * BlockQ4_K.Bytes);
                        BlockQ4_K.GetScaleMin(sub, MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref blk, 4), 12), out int sc, out int m);
                        ref byte qs = ref Unsafe.Add(ref blk, 16 + 32 * (sub >> 1));
                        Vector128<byte> q0 = Vector128.LoadUnsafe(ref qs), q1 = Vector128.LoadUnsafe(ref qs, 16);
                        if ((sub & 1) != 0)
                        {
                            q0 = Vector128.ShiftRightLogical(q0, 4);
                            q1 = Vector128.ShiftRightLogical(q1, 4);
                        }

                        Partials((q0 & Vector128.Create((byte)0x0F)).AsSByte(), (q1 & Vector128.Create((byte)0x0F)).AsSByte(), x0, x1,
                                 out Vector128<int> p0, out Vector128<int> p1);
                        float d = HalfBits.F16At(ref f16, ref blk), dmin = HalfBits.F16At(ref f16, ref Unsafe.Add(ref blk, 2));
                        float dsc = d * sc;
                        Vector128<float> s = Vector128.Create(dsc * xs);
                        lo = Vector128.FusedMultiplyAdd(s, Vector128.ConvertToSingle(p0), lo);
                        hi = Vector128.FusedMultiplyAdd(s, Vector128.ConvertToSingle(p1), hi);
                        float dm = dmin * m;
                        mins = MathF.FusedMultiplyAdd(dm * xs, xSums[b], mins);
                        break;
                    }
                case GgmlType.Q6_K:
                    {
                        int c = b & 7, half = c / 4, t = c % 4;
                        ref byte blk = ref Unsafe.Add(ref rw, (b >> 3) * BlockQ6_K.Bytes);
                        ref byte ql = ref Unsafe.Add(ref blk, BlockQ6_K.QlOffset + 64 * half + 32 * (t & 1));
                        ref byte qh = ref Unsafe.Add(ref blk, BlockQ6_K.QhOffset + 32 * half);
                        Vector128<sbyte> w0 = Q6KQuants(Vector128.LoadUnsafe(ref ql), Vector128.LoadUnsafe(ref qh), t);
                        Vector128<sbyte> w1 = Q6KQuants(Vector128.LoadUnsafe(ref ql, 16), Vector128.LoadUnsafe(ref qh, 16), t);
                        Partials(w0, w1, x0, x1, out Vector128<int> p0, out Vector128<int> p1);
                        float d = HalfBits.F16At(ref f16, ref Unsafe.Add(ref blk, BlockQ6_K.DOffset));
                        ref sbyte scales = ref Unsafe.As<byte, sbyte>(ref Unsafe.Add(ref blk, BlockQ6_K.ScalesOffset));
                        float dsc0 = d * Unsafe.Add(ref scales, 2 * c);
                        float dsc1 = d * Unsafe.Add(ref scales, 2 * c + 1);
                        lo = Vector128.FusedMultiplyAdd(Vector128.Create(dsc0 * xs), Vector128.ConvertToSingle(p0), lo);
                        hi = Vector128.FusedMultiplyAdd(Vector128.Create(dsc1 * xs), Vector128.ConvertToSingle(p1), hi);
                        break;
                    }
                default:
                    KernelGuard.ThrowUnsupported(type);
                    break;
            }
        }

        if (type == GgmlType.Q4_0) return one;
        return Dot.Tree8(Vector256.Create(lo, hi)) - mins;
    }

    /// <summary>Q6_K weights q − 32 of 16 elements from their low (<paramref name="ql"/>) and high (<paramref name="qh"/>) bits, part t of 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<sbyte> Q6KQuants(Vector128<byte> ql, Vector128<byte> qh, int t)
    {
        Vector128<byte> low = t < 2 ? ql & Vector128.Create((byte)0x0F) : Vector128.ShiftRightLogical(ql, 4);
        Vector128<byte> high = Vector128.ShiftRightLogical(qh, 2 * t) & Vector128.Create((byte)3);
        return (low | Vector128.ShiftLeft(high, 4)).AsSByte() - Vector128.Create((sbyte)32);
    }

    /// <summary>
    /// The block's 8 partial sums P_j = Σ_{k=4j..4j+3} w_k · x_k: P_0..3 in <paramref name="p0"/>, P_4..7 in
    /// <paramref name="p1"/> (elements 0..15 in w0/x0, 16..31 in w1/x1). Exact: int8 products fit in int16.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Partials(Vector128<sbyte> w0, Vector128<sbyte> w1, Vector128<sbyte> x0, Vector128<sbyte> x1,
                                 out Vector128<int> p0, out Vector128<int> p1)
    {
        Vector128<short> a = Vector128.WidenLower(w0) * Vector128.WidenLower(x0);   // elements 0..7
        Vector128<short> b = Vector128.WidenUpper(w0) * Vector128.WidenUpper(x0);   // 8..15
        Vector128<short> c = Vector128.WidenLower(w1) * Vector128.WidenLower(x1);   // 16..23
        Vector128<short> d = Vector128.WidenUpper(w1) * Vector128.WidenUpper(x1);   // 24..31
        p0 = Vector128.Create(Vector128.Sum(Vector128.WidenLower(a)), Vector128.Sum(Vector128.WidenUpper(a)),
                              Vector128.Sum(Vector128.WidenLower(b)), Vector128.Sum(Vector128.WidenUpper(b)));
        p1 = Vector128.Create(Vector128.Sum(Vector128.WidenLower(c)), Vector128.Sum(Vector128.WidenUpper(c)),
                              Vector128.Sum(Vector128.WidenLower(d)), Vector128.Sum(Vector128.WidenUpper(d)));
    }
}
