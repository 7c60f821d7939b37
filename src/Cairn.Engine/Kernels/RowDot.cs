using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Cairn.Engine.Kernels.Reference;
using Cairn.Engine.Tensors;

namespace Cairn.Engine.Kernels;

/// <summary>
/// Dot product of one weight row (raw GGUF bytes) with an activation vector, bit-identical to
/// <see cref="ReferenceRowDot"/> (which states the reduction orders) on every machine.
/// </summary>
public static partial class RowDot
{
    /// <summary>Elements of an F16/BF16 row converted per piece; a multiple of 16 so lanes stay k % 16.</summary>
    private const int ConvertChunk = 256;

    /// <summary>True for the types whose rows take the Q8 activation of <see cref="ActivationQuantizer"/>.</summary>
    public static bool NeedsQuantizedActivation(GgmlType type) => ReferenceRowDot.NeedsQuantizedActivation(type);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Compute(GgmlType type, ReadOnlySpan<byte> row, int cols, ReadOnlySpan<float> x,
                                ReadOnlySpan<sbyte> xq, ReadOnlySpan<float> xScales, ReadOnlySpan<int> xSums)
    {
        KernelGuard.RowDotArguments(type, row, cols, x.Length, xq.Length, xScales.Length, xSums.Length);
        switch (type)
        {
            case GgmlType.F32:
                return Dot.F32(MemoryMarshal.Cast<byte, float>(row.Slice(0, 4 * cols)), x.Slice(0, cols));
            case GgmlType.F16:
            case GgmlType.BF16:
                return HalfRow(type == GgmlType.BF16, row, x.Slice(0, cols));
            default:
                if (type == GgmlType.Q4_0 && KernelOptions.UseAvx2) return Q4_0RowAvx2(row, cols / 32, xq, xScales);
                if (KernelOptions.UseAvx2) return QuantizedAvx2(type, row, cols, xq, xScales, xSums);
                if (KernelOptions.UseVector128) return Quantized128(type, row, cols, xq, xScales, xSums);
                return ReferenceRowDot.Compute(type, row, cols, x, xq, xScales, xSums);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float HalfRow(bool bf16, ReadOnlySpan<byte> row, ReadOnlySpan<float> x)
    {
        Span<float> lanes = stackalloc float[ReferenceDot.Lanes];
        lanes.Clear();
        ReadOnlySpan<ushort> bits = MemoryMarshal.Cast<byte, ushort>(row.Slice(0, 2 * x.Length));
        int n = x.Length, full = n & ~15;
        ref ushort rs = ref MemoryMarshal.GetReference(bits);
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float l0 = ref MemoryMarshal.GetReference(lanes);
        if (KernelOptions.UseVector512)
        {
            Vector512<float> acc = Vector512<float>.Zero;
            for (nuint i = 0; i < (nuint)full; i += 16)
            {
                Vector512<uint> h = Vector512.WidenLower(Vector256.LoadUnsafe(ref rs, i).ToVector512Unsafe());
                Vector512<float> w = bf16 ? Vector512.ShiftLeft(h, 16).AsSingle() : F16ToSingle(h);
                acc = Vector512.FusedMultiplyAdd(w, Vector512.LoadUnsafe(ref rx, i), acc);
            }

            acc.StoreUnsafe(ref l0);
        }
        else if (KernelOptions.UseVector256)
        {
            Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
            for (nuint i = 0; i < (nuint)full; i += 16)
            {
                Vector256<ushort> h16 = Vector256.LoadUnsafe(ref rs, i);
                Vector256<uint> h0 = Vector256.WidenLower(h16), h1 = Vector256.WidenUpper(h16);
                Vector256<float> w0 = bf16 ? Vector256.ShiftLeft(h0, 16).AsSingle() : F16ToSingle(h0);
                Vector256<float> w1 = bf16 ? Vector256.ShiftLeft(h1, 16).AsSingle() : F16ToSingle(h1);
                acc0 = Vector256.FusedMultiplyAdd(w0, Vector256.LoadUnsafe(ref rx, i), acc0);
                acc1 = Vector256.FusedMultiplyAdd(w1, Vector256.LoadUnsafe(ref rx, i + 8), acc1);
            }

            acc0.StoreUnsafe(ref l0);
            acc1.StoreUnsafe(ref l0, 8);
        }
        else
        {
            full = 0;
        }

        // The rest (all of it without 256-bit vectors) converted piece by piece into the same lanes.
        Span<float> w32 = stackalloc float[ConvertChunk];
        for (int start = full; start < n; start += ConvertChunk)
        {
            int count = Math.Min(ConvertChunk, n - start);
            Span<float> piece = w32.Slice(0, count);
            if (bf16) ConvertBf16(bits.Slice(start, count), piece);
            else ConvertF16(bits.Slice(start, count), piece);
            Dot.Accumulate(lanes, piece, x.Slice(start, count));
        }

        return Dot.Tree16(lanes);
    }

    /// <summary>Exact f16 → f32 of 16 halves held in 32-bit lanes (<see cref="HalfBits.F16ToSingle"/>'s recipe).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> F16ToSingle(Vector512<uint> h)
    {
        Vector512<uint> sign = Vector512.ShiftLeft(h & Vector512.Create(0x8000u), 16);
        Vector512<uint> em = h & Vector512.Create(0x7FFFu);
        Vector512<uint> mant = em & Vector512.Create(0x3FFu);
        Vector512<uint> finite = (Vector512.ShiftLeft(em, 13).AsSingle() * Vector512.Create(HalfBits.TwoPow112Bits).AsSingle()).AsUInt32();
        Vector512<uint> quiet = ~Vector512.Equals(mant, Vector512<uint>.Zero) & Vector512.Create(0x400000u);
        Vector512<uint> special = Vector512.Create(0x7F800000u) | Vector512.ShiftLeft(mant, 13) | quiet;
        Vector512<uint> isSpecial = Vector512.GreaterThanOrEqual(em, Vector512.Create(0x7C00u));
        return (Vector512.ConditionalSelect(isSpecial, special, finite) | sign).AsSingle();
    }

    /// <summary>Exact f16 → f32 of 8 halves held in 32-bit lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> F16ToSingle(Vector256<uint> h)
    {
        Vector256<uint> sign = Vector256.ShiftLeft(h & Vector256.Create(0x8000u), 16);
        Vector256<uint> em = h & Vector256.Create(0x7FFFu);
        Vector256<uint> mant = em & Vector256.Create(0x3FFu);
        Vector256<uint> finite = (Vector256.ShiftLeft(em, 13).AsSingle() * Vector256.Create(HalfBits.TwoPow112Bits).AsSingle()).AsUInt32();
        Vector256<uint> quiet = ~Vector256.Equals(mant, Vector256<uint>.Zero) & Vector256.Create(0x400000u);
        Vector256<uint> special = Vector256.Create(0x7F800000u) | Vector256.ShiftLeft(mant, 13) | quiet;
        Vector256<uint> isSpecial = Vector256.GreaterThanOrEqual(em, Vector256.Create(0x7C00u));
        return (Vector256.ConditionalSelect(isSpecial, special, finite) | sign).AsSingle();
    }

    /// <summary>Exact f16 → f32, the bit recipe of <see cref="HalfBits.F16ToSingle"/> in 256-bit vectors.</summary>
    internal static void ConvertF16(ReadOnlySpan<ushort> src, Span<float> dst)
    {
        int n = src.Length, i = 0;
        ref ushort rs = ref MemoryMarshal.GetReference(src);
        ref float rd = ref MemoryMarshal.GetReference(dst);
        if (KernelOptions.UseVector512)
        {
            for (; i <= n - 16; i += 16)
            {
                Vector256<ushort> h = Vector256.LoadUnsafe(ref rs, (nuint)i);
                Vector512<float> w = Vector256.GreaterThanOrEqualAny(Vector256.ShiftLeft(h, 1), Vector256.Create(F16SpecialShifted))
                    ? F16ToSingle(Vector512.WidenLower(h.ToVector512Unsafe()))
                    : F16FiniteToSingle(h);
                w.StoreUnsafe(ref rd, (nuint)i);
            }
        }

        if (KernelOptions.UseVector256)
        {
            for (; i <= n - 8; i += 8)
            {
                F16ToSingle(Vector256.WidenLower(Vector128.LoadUnsafe(ref rs, (nuint)i).ToVector256Unsafe())).StoreUnsafe(ref rd, (nuint)i);
            }
        }

        for (; i < n; i++) Unsafe.Add(ref rd, i) = HalfBits.F16ToSingle(Unsafe.Add(ref rs, i));
    }

    /// <summary>Exact bf16 → f32 (bits &lt;&lt; 16).</summary>
    internal static void ConvertBf16(ReadOnlySpan<ushort> src, Span<float> dst)
    {
        int n = src.Length, i = 0;
        ref ushort rs = ref MemoryMarshal.GetReference(src);
        ref float rd = ref MemoryMarshal.GetReference(dst);
        if (KernelOptions.UseVector256)
        {
            for (; i <= n - 8; i += 8)
            {
                Vector256<uint> h = Vector256.WidenLower(Vector128.LoadUnsafe(ref rs, (nuint)i).ToVector256Unsafe());
                Vector256.ShiftLeft(h, 16).AsSingle().StoreUnsafe(ref rd, (nuint)i);
            }
        }

        for (; i < n; i++) Unsafe.Add(ref rd, i) = HalfBits.Bf16ToSingle(Unsafe.Add(ref rs, i));
    }
}
