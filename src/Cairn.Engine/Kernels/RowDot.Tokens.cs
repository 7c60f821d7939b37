using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Cairn.Engine.Kernels.Blocks;
using Cairn.Engine.Tensors;

namespace Cairn.Engine.Kernels;

/// <summary>
/// One quantized weight row against several tokens' Q8 activations (prefill). Each block's weights are unpacked,
/// widened to int16 and their per-lane weight scale (d, d·sc) computed once, then every token runs its own 8-lane
/// accumulator exactly as <see cref="Compute"/> does: the same P_j, the same s_j = wscale_j · xScales[b] (one f32
/// product, as before), the same FMA per block in increasing b, the same 4-2-1 tree. So each token's result is
/// bit-identical to <see cref="Compute"/> on that token alone.
/// </summary>
public static partial class RowDot
{
    /// <summary>Tokens one pass of the multi-token kernel keeps in registers.</summary>
    private const int TokenGroup = 4;

    /// <summary>
    /// y[t · yStride] = <see cref="Compute"/>(type, row, cols, token t) for t in [0, tokens), where token t's activation is
    /// xq[t·cols ..], xScales[t·cols/32 ..], xSums[t·cols/32 ..] (tokens stored one after another). Quantized types only.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ComputeTokens(GgmlType type, ReadOnlySpan<byte> row, int cols, int tokens, ReadOnlySpan<sbyte> xq,
                                     ReadOnlySpan<float> xScales, ReadOnlySpan<int> xSums, Span<float> y, int yStride)
    {
        if (!NeedsQuantizedActivation(type)) KernelGuard.ThrowUnsupported(type);
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(yStride, 1);
        if (tokens == 0) return;
        KernelGuard.RowDotArguments(type, row, cols, 0, cols, cols / 32, cols / 32);
        int blocks = cols / 32;
        KernelGuard.AtLeast(xq.Length, tokens * cols, "xq");
        KernelGuard.AtLeast(xScales.Length, tokens * blocks, "xScales");
        if (type == GgmlType.Q4_K) KernelGuard.AtLeast(xSums.Length, tokens * blocks, "xSums");
        KernelGuard.AtLeast(y.Length, (tokens - 1) * yStride + 1, "y");

        int t = 0;
        if (KernelOptions.UseAvx2 && type != GgmlType.Q4_0)
        {
            for (; t + TokenGroup <= tokens; t += TokenGroup)
            {
                switch (type)
                {
                    case GgmlType.Q8_0: Group4<Q8_0Unpack>(row, blocks, xq, xScales, xSums, t, y, yStride); break;
                    case GgmlType.Q4_K: Group4<Q4_KUnpack>(row, blocks, xq, xScales, xSums, t, y, yStride); break;
                    default: Group4<Q6_KUnpack>(row, blocks, xq, xScales, xSums, t, y, yStride); break;
                }
            }
        }

        for (; t < tokens; t++)
        {
            ReadOnlySpan<int> sums = type == GgmlType.Q4_K ? xSums.Slice(t * blocks, blocks) : default;
            y[t * yStride] = Compute(type, row, cols, default, xq.Slice(t * cols, cols), xScales.Slice(t * blocks, blocks), sums);
        }
    }

    /// <summary>Four tokens [t0, t0 + 4) against one row; 4 accumulators (and 4 Q4_K mins) live in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Group4<TUnpack>(ReadOnlySpan<byte> row, int blocks, ReadOnlySpan<sbyte> xq, ReadOnlySpan<float> xScales,
                                        ReadOnlySpan<int> xSums, int t0, Span<float> y, int yStride)
        where TUnpack : struct, IBlockUnpack
    {
        ref byte rw = ref MemoryMarshal.GetReference(row);
        int cols = 32 * blocks;
        ref sbyte x0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(xq), t0 * cols);
        ref sbyte x1 = ref Unsafe.Add(ref x0, cols);
        ref sbyte x2 = ref Unsafe.Add(ref x1, cols);
        ref sbyte x3 = ref Unsafe.Add(ref x2, cols);
        ref float s0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(xScales), t0 * blocks);
        ref float s1 = ref Unsafe.Add(ref s0, blocks);
        ref float s2 = ref Unsafe.Add(ref s1, blocks);
        ref float s3 = ref Unsafe.Add(ref s2, blocks);
        // Only Q4_K reads the sums; others may pass none, so point them at the scales' memory (never read).
        ref int m0 = ref TUnpack.HasMins ? ref Unsafe.Add(ref MemoryMarshal.GetReference(xSums), t0 * blocks) : ref Unsafe.As<float, int>(ref s0);
        ref int m1 = ref Unsafe.Add(ref m0, blocks);
        ref int m2 = ref Unsafe.Add(ref m1, blocks);
        ref int m3 = ref Unsafe.Add(ref m2, blocks);

        Vector256<float> a0 = Vector256<float>.Zero, a1 = Vector256<float>.Zero, a2 = Vector256<float>.Zero, a3 = Vector256<float>.Zero;
        float n0 = 0f, n1 = 0f, n2 = 0f, n3 = 0f;
        for (int b = 0; b < blocks; b++)
        {
            TUnpack.Unpack(ref rw, b, out Vector256<sbyte> w, out Vector256<float> ws, out float dm);
            Vector256<short> wl = Avx2.ConvertToVector256Int16(w.GetLower());
            Vector256<short> wh = Avx2.ConvertToVector256Int16(w.GetUpper());
            nuint at = (nuint)(32 * b);
            float xs0 = Unsafe.Add(ref s0, b), xs1 = Unsafe.Add(ref s1, b), xs2 = Unsafe.Add(ref s2, b), xs3 = Unsafe.Add(ref s3, b);
            a0 = Vector256.FusedMultiplyAdd(ws * Vector256.Create(xs0), Partials(wl, wh, Vector256.LoadUnsafe(ref x0, at)), a0);
            a1 = Vector256.FusedMultiplyAdd(ws * Vector256.Create(xs1), Partials(wl, wh, Vector256.LoadUnsafe(ref x1, at)), a1);
            a2 = Vector256.FusedMultiplyAdd(ws * Vector256.Create(xs2), Partials(wl, wh, Vector256.LoadUnsafe(ref x2, at)), a2);
            a3 = Vector256.FusedMultiplyAdd(ws * Vector256.Create(xs3), Partials(wl, wh, Vector256.LoadUnsafe(ref x3, at)), a3);
            if (TUnpack.HasMins)
            {
                n0 = MathF.FusedMultiplyAdd(dm * xs0, Unsafe.Add(ref m0, b), n0);
                n1 = MathF.FusedMultiplyAdd(dm * xs1, Unsafe.Add(ref m1, b), n1);
                n2 = MathF.FusedMultiplyAdd(dm * xs2, Unsafe.Add(ref m2, b), n2);
                n3 = MathF.FusedMultiplyAdd(dm * xs3, Unsafe.Add(ref m3, b), n3);
            }
        }

        y[t0 * yStride] = Dot.Tree8(Unpermute(a0)) - n0;
        y[(t0 + 1) * yStride] = Dot.Tree8(Unpermute(a1)) - n1;
        y[(t0 + 2) * yStride] = Dot.Tree8(Unpermute(a2)) - n2;
        y[(t0 + 3) * yStride] = Dot.Tree8(Unpermute(a3)) - n3;
    }

    /// <summary>
    /// The 8 int32 partial sums of one block (as floats) in the <em>hadd order</em> [P0 P1 P4 P5 | P2 P3 P6 P7]: the
    /// multi-row and multi-token kernels keep their accumulators in that lane order (every lane's arithmetic is the
    /// same wherever it sits) and restore P0..P7 order once, in <see cref="Unpermute"/>, instead of once per block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Partials(Vector256<short> wl, Vector256<short> wh, Vector256<sbyte> x)
    {
        Vector256<int> lo = Avx2.MultiplyAddAdjacent(wl, Avx2.ConvertToVector256Int16(x.GetLower()));
        Vector256<int> hi = Avx2.MultiplyAddAdjacent(wh, Avx2.ConvertToVector256Int16(x.GetUpper()));
        return Vector256.ConvertToSingle(Avx2.HorizontalAdd(lo, hi));
    }

    /// <summary>Hadd lane order → lane j holds logical lane j (swaps the middle 64-bit pairs; its own inverse).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Unpermute(Vector256<float> acc) =>
        Avx2.Permute4x64(acc.AsDouble(), 0b11_01_10_00).AsSingle();

    /// <summary>
    /// One 32-element block b of a row: its 32 integer weights, its per-lane weight scale (the factor that multiplies
    /// xScales[b] in <see cref="Reference.ReferenceRowDot"/>; lanes in <see cref="Partials"/>' hadd order) and, for
    /// Q4_K, dmin · m.
    /// </summary>
    private interface IBlockUnpack
    {
        static abstract bool HasMins { get; }
        static abstract void Unpack(ref byte row, int b, out Vector256<sbyte> w, out Vector256<float> wscale, out float dm);
    }

    private struct Q8_0Unpack : IBlockUnpack
    {
        public static bool HasMins => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Unpack(ref byte row, int b, out Vector256<sbyte> w, out Vector256<float> wscale, out float dm)
        {
            ref byte blk = ref Unsafe.Add(ref row, b * BlockQ8_0.Bytes);
            w = Vector256.LoadUnsafe(ref Unsafe.Add(ref blk, 2)).AsSByte();
            wscale = Vector256.Create(F16(ref blk));
            dm = 0f;
        }
    }

    private struct Q4_KUnpack : IBlockUnpack
    {
        public static bool HasMins => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Unpack(ref byte row, int b, out Vector256<sbyte> w, out Vector256<float> wscale, out float dm)
        {
            int sub = b & 7;
            ref byte blk = ref Unsafe.Add(ref row, (b >> 3) * BlockQ4_K.Bytes);
            BlockQ4_K.GetScaleMin(sub, MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref blk, 4), 12), out int sc, out int m);
            Vector256<byte> packed = Vector256.LoadUnsafe(ref Unsafe.Add(ref blk, 16 + 32 * (sub >> 1)));
            Vector256<byte> q = (sub & 1) == 0 ? packed & Vector256.Create((byte)0x0F) : Vector256.ShiftRightLogical(packed, 4);
            w = q.AsSByte();
            float d = F16(ref blk), dmin = F16(ref Unsafe.Add(ref blk, 2));
            wscale = Vector256.Create(d * sc);
            dm = dmin * m;
        }
    }

    private struct Q6_KUnpack : IBlockUnpack
    {
        public static bool HasMins => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Unpack(ref byte row, int b, out Vector256<sbyte> w, out Vector256<float> wscale, out float dm)
        {
            int c = b & 7, half = c >> 2, t = c & 3;
            ref byte blk = ref Unsafe.Add(ref row, (b >> 3) * BlockQ6_K.Bytes);
            ref sbyte scales = ref Unsafe.As<byte, sbyte>(ref Unsafe.Add(ref blk, BlockQ6_K.ScalesOffset));
            Vector256<byte> ql = Vector256.LoadUnsafe(ref Unsafe.Add(ref blk, BlockQ6_K.QlOffset + 64 * half + 32 * (t & 1)));
            Vector256<byte> qh = Vector256.LoadUnsafe(ref Unsafe.Add(ref blk, BlockQ6_K.QhOffset + 32 * half));
            Vector256<byte> low = t < 2 ? ql & Vector256.Create((byte)0x0F) : Vector256.ShiftRightLogical(ql, 4);
            Vector256<byte> high = Vector256.ShiftRightLogical(qh, 2 * t) & Vector256.Create((byte)3);
            w = (low | Vector256.ShiftLeft(high, 4)).AsSByte() - Vector256.Create((sbyte)32);
            float d = F16(ref Unsafe.Add(ref blk, BlockQ6_K.DOffset));
            float dsc0 = d * Unsafe.Add(ref scales, 2 * c);
            float dsc1 = d * Unsafe.Add(ref scales, 2 * c + 1);
            // Lanes in hadd order [0 1 4 5 | 2 3 6 7]: logical lanes 0..3 take dsc0, 4..7 take dsc1.
            wscale = Vector256.Create(dsc0, dsc0, dsc1, dsc1, dsc0, dsc0, dsc1, dsc1);
            dm = 0f;
        }
    }
}
