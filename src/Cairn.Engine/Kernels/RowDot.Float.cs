using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Cairn.Engine.Kernels.Reference;
using Cairn.Engine.Tensors;

namespace Cairn.Engine.Kernels;

/// <summary>
/// Float weight rows (F32, F16, BF16) against several tokens (prefill): each row is converted to f32 once (exactly)
/// rather than once per token, and with 512-bit vectors 4 tokens run side by side, each in its own 16 lanes, element
/// k into lane k % 16 by FMA and then <see cref="Dot.Tree16"/> — <see cref="ReferenceDot"/>'s order, so every output
/// is bit-identical to <see cref="Compute"/> on that row and token.
/// </summary>
public static partial class RowDot
{
    /// <summary>
    /// y[t · yStride + r] = <see cref="Compute"/>(type, row r, cols, x[t · cols ..]) for r in [0, rowCount) and
    /// t in [0, tokens). Float types only.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ComputeRowsTokensFloat(GgmlType type, ReadOnlySpan<byte> rows, int rowCount, int cols, int tokens,
                                              ReadOnlySpan<float> x, Span<float> y, int yStride)
    {
        if (type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16)) KernelGuard.ThrowUnsupported(type);
        ArgumentOutOfRangeException.ThrowIfNegative(rowCount);
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        if (rowCount == 0 || tokens == 0) return;
        ArgumentOutOfRangeException.ThrowIfLessThan(yStride, rowCount);
        int rowBytes = (int)GgmlTypeInfo.RowBytes(type, cols);
        KernelGuard.AtLeast(rows.Length, rowCount * rowBytes, "rows");
        KernelGuard.AtLeast(x.Length, tokens * cols, "x");
        KernelGuard.AtLeast(y.Length, (tokens - 1) * yStride + rowCount, "y");

        float[]? converted = type == GgmlType.F32 ? null : ArrayPool<float>.Shared.Rent(Math.Max(cols, 1));
        for (int r = 0; r < rowCount; r++)
        {
            ReadOnlySpan<byte> raw = rows.Slice(r * rowBytes, rowBytes);
            ReadOnlySpan<float> w;
            if (converted == null)
            {
                w = MemoryMarshal.Cast<byte, float>(raw);
            }
            else
            {
                ReadOnlySpan<ushort> bits = MemoryMarshal.Cast<byte, ushort>(raw);
                if (type == GgmlType.BF16) ConvertBf16(bits, converted.AsSpan(0, cols));
                else ConvertF16(bits, converted.AsSpan(0, cols));
                w = converted.AsSpan(0, cols);
            }

            int t = 0;
            if (KernelOptions.UseVector512)
            {
                for (; t + TokenGroup <= tokens; t += TokenGroup) Float4Tokens(w, x, cols, t, y.Slice(r), yStride);
            }

            for (; t < tokens; t++) y[t * yStride + r] = Dot.F32(w, x.Slice(t * cols, cols));
        }

        if (converted != null) ArrayPool<float>.Shared.Return(converted);
    }

    /// <summary>One f32 row × tokens [t0, t0 + 4): four 16-lane accumulators in registers, the tail per lane as <see cref="Dot.Accumulate"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Float4Tokens(ReadOnlySpan<float> w, ReadOnlySpan<float> x, int cols, int t0, Span<float> y, int yStride)
    {
        ref float rw = ref MemoryMarshal.GetReference(w);
        ref float x0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(x), t0 * cols);
        ref float x1 = ref Unsafe.Add(ref x0, cols);
        ref float x2 = ref Unsafe.Add(ref x1, cols);
        ref float x3 = ref Unsafe.Add(ref x2, cols);
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int full = cols & ~15;
        for (nuint i = 0; i < (nuint)full; i += 16)
        {
            Vector512<float> wv = Vector512.LoadUnsafe(ref rw, i);
            a0 = Vector512.FusedMultiplyAdd(wv, Vector512.LoadUnsafe(ref x0, i), a0);
            a1 = Vector512.FusedMultiplyAdd(wv, Vector512.LoadUnsafe(ref x1, i), a1);
            a2 = Vector512.FusedMultiplyAdd(wv, Vector512.LoadUnsafe(ref x2, i), a2);
            a3 = Vector512.FusedMultiplyAdd(wv, Vector512.LoadUnsafe(ref x3, i), a3);
        }

        Span<float> lanes = stackalloc float[4 * ReferenceDot.Lanes];
        ref float l0 = ref MemoryMarshal.GetReference(lanes);
        a0.StoreUnsafe(ref l0);
        a1.StoreUnsafe(ref l0, 16);
        a2.StoreUnsafe(ref l0, 32);
        a3.StoreUnsafe(ref l0, 48);
        for (int t = 0; t < TokenGroup; t++)
        {
            ref float xt = ref Unsafe.Add(ref x0, t * cols);
            for (int k = full; k < cols; k++)
            {
                ref float lane = ref Unsafe.Add(ref l0, 16 * t + (k & 15));
                lane = MathF.FusedMultiplyAdd(Unsafe.Add(ref rw, k), Unsafe.Add(ref xt, k), lane);
            }

            y[(t0 + t) * yStride] = Dot.Tree16(lanes.Slice(16 * t, 16));
        }
    }
}
