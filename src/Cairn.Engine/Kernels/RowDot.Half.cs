using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Cairn.Engine.Kernels.Reference;

namespace Cairn.Engine.Kernels;

/// <summary>
/// F16 rows in decode, 4 at a time, with a short conversion for finite halves. Sign-extending an f16 to 32 bits and
/// shifting it left by 13 puts its sign at bit 31 (bits 28–30 get copies of it) and its exponent and mantissa at bits
/// 13–27; masked with 0x8FFFE000 that is an f32 equal to the half times 2^-112, exactly, sign included (normal and
/// subnormal halves alike), and one multiplication by 2^112 gives the half's value: 3 operations after the widening
/// load instead of 10. Infinities and NaNs (exponent field 31) would come out as ±65536…131008, so every row notes
/// the largest <c>bits &lt;&lt; 1</c> it saw (≥ 0xF800 exactly for those), and a row that held one is recomputed by
/// <see cref="HalfRow"/>. Each row keeps <see cref="ReferenceDot"/>'s lanes (element k in lane k % 16, FMA, tail by
/// <see cref="Dot.Accumulate"/>, tree 8-4-2-1); the four rows share each activation load.
/// </summary>
public static partial class RowDot
{
    /// <summary>f16 sign, exponent and mantissa after a sign-extended shift left by 13 (see the class remarks).</summary>
    private const uint F16FiniteMask = 0x8FFFE000u;

    /// <summary><c>bits &lt;&lt; 1</c> of an f16 is at least this (unsigned) exactly when it is an infinity or a NaN.</summary>
    private const ushort F16SpecialShifted = 0xF800;

    /// <summary>Exact f16 → f32 of 16 finite halves (no infinity or NaN among them).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> F16FiniteToSingle(Vector256<ushort> h) =>
        F16FiniteToSingle(h, Vector512.Create(F16FiniteMask), Vector512.Create(HalfBits.TwoPow112Bits).AsSingle());

    /// <summary><see cref="F16FiniteToSingle(Vector256{ushort})"/> with its constants held by the caller.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> F16FiniteToSingle(Vector256<ushort> h, Vector512<uint> mask, Vector512<float> scale)
    {
        Vector512<uint> wide = Vector512.WidenLower(h.AsInt16().ToVector512Unsafe()).AsUInt32();
        return (Vector512.ShiftLeft(wide, 13) & mask).AsSingle() * scale;
    }

    /// <summary>Four consecutive F16 rows against one activation (512-bit vectors): y[k] = <see cref="HalfRow"/>(row k, x).</summary>
    private static void Rows4F16(ReadOnlySpan<byte> rows, int rowBytes, ReadOnlySpan<float> x, Span<float> y)
    {
        int full = x.Length & ~15;
        Span<float> lanes = stackalloc float[4 * ReferenceDot.Lanes];
        Span<ushort> maxima = stackalloc ushort[4 * ReferenceDot.Lanes];
        Rows4F16Body(rows, rowBytes, x, full, lanes, maxima);
        for (int k = 0; k < 4; k++)
        {
            y[k] = FinishF16Row(lanes.Slice(k * ReferenceDot.Lanes, ReferenceDot.Lanes), maxima.Slice(k * ReferenceDot.Lanes, ReferenceDot.Lanes),
                                rows.Slice(k * rowBytes, rowBytes), x, full);
        }
    }

    /// <summary>
    /// The vector loop of <see cref="Rows4F16"/>, alone in its method: with a call after it in the same method, the JIT
    /// kept the accumulators on the stack and stored and reloaded them on every iteration.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Rows4F16Body(ReadOnlySpan<byte> rows, int rowBytes, ReadOnlySpan<float> x, int full, Span<float> lanes, Span<ushort> maxima)
    {
        ref byte b0 = ref MemoryMarshal.GetReference(rows);
        ref ushort h0 = ref Unsafe.As<byte, ushort>(ref b0);
        ref ushort h1 = ref Unsafe.As<byte, ushort>(ref Unsafe.Add(ref b0, rowBytes));
        ref ushort h2 = ref Unsafe.As<byte, ushort>(ref Unsafe.Add(ref b0, 2 * rowBytes));
        ref ushort h3 = ref Unsafe.As<byte, ushort>(ref Unsafe.Add(ref b0, 3 * rowBytes));
        ref float rx = ref MemoryMarshal.GetReference(x);
        Vector512<uint> mask = Vector512.Create(F16FiniteMask);
        Vector512<float> scale = Vector512.Create(HalfBits.TwoPow112Bits).AsSingle();
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<ushort> m0 = default, m1 = default, m2 = default, m3 = default;
        // The next four rows (one contiguous region) are prefetched in step with these: rows of a few KiB are too short
        // for the hardware prefetcher to follow four streams at once.
        ref byte next = ref Unsafe.Add(ref b0, 4 * rowBytes);
        for (nuint i = 0; i < (nuint)full; i += 16)
        {
            Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref next, 8 * i)));
            Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref next, 8 * i + 64)));
            Vector512<float> xv = Vector512.LoadUnsafe(ref rx, i);
            Vector256<ushort> w0 = Vector256.LoadUnsafe(ref h0, i), w1 = Vector256.LoadUnsafe(ref h1, i);
            Vector256<ushort> w2 = Vector256.LoadUnsafe(ref h2, i), w3 = Vector256.LoadUnsafe(ref h3, i);
            m0 = Vector256.Max(m0, Vector256.ShiftLeft(w0, 1));
            m1 = Vector256.Max(m1, Vector256.ShiftLeft(w1, 1));
            m2 = Vector256.Max(m2, Vector256.ShiftLeft(w2, 1));
            m3 = Vector256.Max(m3, Vector256.ShiftLeft(w3, 1));
            a0 = Vector512.FusedMultiplyAdd(F16FiniteToSingle(w0, mask, scale), xv, a0);
            a1 = Vector512.FusedMultiplyAdd(F16FiniteToSingle(w1, mask, scale), xv, a1);
            a2 = Vector512.FusedMultiplyAdd(F16FiniteToSingle(w2, mask, scale), xv, a2);
            a3 = Vector512.FusedMultiplyAdd(F16FiniteToSingle(w3, mask, scale), xv, a3);
        }

        ref float l0 = ref MemoryMarshal.GetReference(lanes);
        a0.StoreUnsafe(ref l0);
        a1.StoreUnsafe(ref l0, 16);
        a2.StoreUnsafe(ref l0, 32);
        a3.StoreUnsafe(ref l0, 48);
        ref ushort mx = ref MemoryMarshal.GetReference(maxima);
        m0.StoreUnsafe(ref mx);
        m1.StoreUnsafe(ref mx, 16);
        m2.StoreUnsafe(ref mx, 32);
        m3.StoreUnsafe(ref mx, 48);
    }

    /// <summary>The row's tail and tree, or the whole row again by <see cref="HalfRow"/> if it held an infinity or a NaN.</summary>
    private static float FinishF16Row(Span<float> lanes, ReadOnlySpan<ushort> shiftedMax, ReadOnlySpan<byte> row, ReadOnlySpan<float> x, int full)
    {
        if (Vector256.GreaterThanOrEqualAny(Vector256.Create(shiftedMax), Vector256.Create(F16SpecialShifted))) return HalfRow(false, row, x);
        int n = x.Length;
        if (full < n)
        {
            Span<float> piece = stackalloc float[ReferenceDot.Lanes];
            piece = piece.Slice(0, n - full);
            ConvertF16(MemoryMarshal.Cast<byte, ushort>(row.Slice(0, 2 * n)).Slice(full), piece);
            Dot.Accumulate(lanes, piece, x.Slice(full));
        }

        return Dot.Tree16(lanes);
    }
}
