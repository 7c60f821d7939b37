using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Cairn.Engine.Tensors;

namespace Cairn.Engine.Kernels;

/// <summary>
/// Consecutive weight rows against one activation (decode): the type switch and argument checks are done once per
/// call, not per row, and with AVX2 four quantized rows share each block's activation load and int16 widening. Each
/// row keeps its own 8-lane accumulator, updated block after block exactly as <see cref="Compute"/> does it, so
/// y[r] is bit-identical to <see cref="Compute"/> on row r.
/// </summary>
public static partial class RowDot
{
    /// <summary>Rows one pass of the multi-row kernel keeps in registers.</summary>
    private const int RowGroup = 4;


    /// <summary>
    /// y[r] = <see cref="Compute"/>(type, row r, cols, x, xq, xScales, xSums) for r in [0, rowCount), row r being
    /// rows[r · RowBytes(type, cols) ..].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ComputeRows(GgmlType type, ReadOnlySpan<byte> rows, int rowCount, int cols, ReadOnlySpan<float> x,
                                   ReadOnlySpan<sbyte> xq, ReadOnlySpan<float> xScales, ReadOnlySpan<int> xSums, Span<float> y)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rowCount);
        if (rowCount == 0) return;
        KernelGuard.RowDotArguments(type, rows, cols, x.Length, xq.Length, xScales.Length, xSums.Length);
        int rowBytes = (int)GgmlTypeInfo.RowBytes(type, cols);
        KernelGuard.AtLeast(rows.Length, rowCount * rowBytes, "rows");
        KernelGuard.AtLeast(y.Length, rowCount, "y");

        int r = 0;
        // Q4_0 has its own kernel (8 rows in one accumulator's lanes, RowDot.Q4_0Decode.cs); the branches below never see it.
        if (type == GgmlType.Q4_0 && KernelOptions.UseAvx2 && cols > 0)
        {
            r = Q4_0Rows(rows, rowCount, rowBytes, cols / 32, xq, xScales, y);
        }
        else if (NeedsQuantizedActivation(type) && KernelOptions.UseVnni && rowCount >= RowGroup && cols > 0)
        {
            int blocks = cols / 32;
            int[]? rented = null;
            Span<int> groupSums = 8 * blocks <= StackGroupSums ? stackalloc int[8 * blocks] : (rented = ArrayPool<int>.Shared.Rent(8 * blocks));
            if (type != GgmlType.Q4_K) GroupSums(xq, blocks, groupSums);
            if (type == GgmlType.Q4_K)
                for (; r + KRowGroup <= rowCount; r += KRowGroup)
                    Rows8Q4K(rows.Slice(r * rowBytes, KRowGroup * rowBytes), rowBytes, blocks, xq, xScales, xSums, y.Slice(r, KRowGroup));
            else if (type == GgmlType.Q6_K)
                for (; r + KRowGroup <= rowCount; r += KRowGroup)
                    Rows8Q6K(rows.Slice(r * rowBytes, KRowGroup * rowBytes), rowBytes, blocks, xq, xScales, y.Slice(r, KRowGroup));
            for (; r + RowGroup <= rowCount; r += RowGroup)
            {
                ReadOnlySpan<byte> group = rows.Slice(r * rowBytes, RowGroup * rowBytes);
                Span<float> out4 = y.Slice(r, RowGroup);
                switch (type)
                {
                    case GgmlType.Q8_0: Rows4Vnni<Q8_0Vnni>(group, rowBytes, blocks, xq, xScales, xSums, groupSums, out4); break;
                    case GgmlType.Q4_K: Rows4Q4KVnni(group, rowBytes, blocks, xq, xScales, xSums, out4); break;
                    default: Rows4Q6KVnni(group, rowBytes, blocks, xq, xScales, groupSums, out4); break;
                }
            }
            if (rented != null) ArrayPool<int>.Shared.Return(rented);
        }
        else if (NeedsQuantizedActivation(type) && KernelOptions.UseAvx2 && cols > 0)
        {
            int blocks = cols / 32;
            if (type == GgmlType.Q4_K)
                for (; r + KRowGroup <= rowCount; r += KRowGroup)
                    Rows8Q4K(rows.Slice(r * rowBytes, KRowGroup * rowBytes), rowBytes, blocks, xq, xScales, xSums, y.Slice(r, KRowGroup));
            else if (type == GgmlType.Q6_K)
                for (; r + KRowGroup <= rowCount; r += KRowGroup)
                    Rows8Q6K(rows.Slice(r * rowBytes, KRowGroup * rowBytes), rowBytes, blocks, xq, xScales, y.Slice(r, KRowGroup));
            for (; r + RowGroup <= rowCount; r += RowGroup)
            {
                ReadOnlySpan<byte> group = rows.Slice(r * rowBytes, RowGroup * rowBytes);
                Span<float> out4 = y.Slice(r, RowGroup);
                switch (type)
                {
                    case GgmlType.Q8_0: Rows4<Q8_0Unpack>(group, rowBytes, blocks, xq, xScales, xSums, out4); break;
                    case GgmlType.Q4_K: Rows4<Q4_KUnpack>(group, rowBytes, blocks, xq, xScales, xSums, out4); break;
                    default: Rows4<Q6_KUnpack>(group, rowBytes, blocks, xq, xScales, xSums, out4); break;
                }
            }
        }

        else if (type == GgmlType.F16 && KernelOptions.UseVector512)
        {
            for (; r + RowGroup <= rowCount; r += RowGroup)
                Rows4F16(rows.Slice(r * rowBytes, RowGroup * rowBytes), rowBytes, x.Slice(0, cols), y.Slice(r, RowGroup));
        }

        for (; r < rowCount; r++) y[r] = Compute(type, rows.Slice(r * rowBytes, rowBytes), cols, x, xq, xScales, xSums);
    }

    /// <summary>Four consecutive rows against one activation; 4 accumulators (and 4 Q4_K mins) live in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Rows4<TUnpack>(ReadOnlySpan<byte> rows, int rowBytes, int blocks, ReadOnlySpan<sbyte> xq,
                                       ReadOnlySpan<float> xScales, ReadOnlySpan<int> xSums, Span<float> y)
        where TUnpack : struct, IBlockUnpack
    {
        ref byte r0 = ref MemoryMarshal.GetReference(rows);
        ref byte r1 = ref Unsafe.Add(ref r0, rowBytes);
        ref byte r2 = ref Unsafe.Add(ref r1, rowBytes);
        ref byte r3 = ref Unsafe.Add(ref r2, rowBytes);
        ref sbyte rx = ref MemoryMarshal.GetReference(xq);
        ref float rs = ref MemoryMarshal.GetReference(xScales);
        ref int rm = ref TUnpack.HasMins ? ref MemoryMarshal.GetReference(xSums) : ref Unsafe.As<float, int>(ref rs);

        Vector256<float> a0 = Vector256<float>.Zero, a1 = Vector256<float>.Zero, a2 = Vector256<float>.Zero, a3 = Vector256<float>.Zero;
        float n0 = 0f, n1 = 0f, n2 = 0f, n3 = 0f;
        // Four rows read side by side look like no stream at all to the hardware prefetcher (it follows one address
        // sequence per page), so the next four rows (contiguous with these) are prefetched in step: each block of the
        // four rows moves 4 · blockBytes bytes, and as many bytes of the next group are requested.
        ref byte next = ref Unsafe.Add(ref r0, RowGroup * rowBytes);
        int step = RowGroup * (rowBytes / blocks);
        for (int b = 0; b < blocks; b++)
        {
            for (int o = b * step, end = o + step; o < end; o += 64) Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref next, o)));
            Vector256<sbyte> xb = Vector256.LoadUnsafe(ref rx, (nuint)(32 * b));
            Vector256<short> xl = Avx2.ConvertToVector256Int16(xb.GetLower());
            Vector256<short> xh = Avx2.ConvertToVector256Int16(xb.GetUpper());
            float xs = Unsafe.Add(ref rs, b);
            Vector256<float> xsv = Vector256.Create(xs);
            TUnpack.Unpack(ref r0, b, out Vector256<sbyte> w0, out Vector256<float> ws0, out float dm0);
            a0 = Vector256.FusedMultiplyAdd(ws0 * xsv, PartialsW(w0, xl, xh), a0);
            TUnpack.Unpack(ref r1, b, out Vector256<sbyte> w1, out Vector256<float> ws1, out float dm1);
            a1 = Vector256.FusedMultiplyAdd(ws1 * xsv, PartialsW(w1, xl, xh), a1);
            TUnpack.Unpack(ref r2, b, out Vector256<sbyte> w2, out Vector256<float> ws2, out float dm2);
            a2 = Vector256.FusedMultiplyAdd(ws2 * xsv, PartialsW(w2, xl, xh), a2);
            TUnpack.Unpack(ref r3, b, out Vector256<sbyte> w3, out Vector256<float> ws3, out float dm3);
            a3 = Vector256.FusedMultiplyAdd(ws3 * xsv, PartialsW(w3, xl, xh), a3);
            if (TUnpack.HasMins)
            {
                float sum = Unsafe.Add(ref rm, b);
                n0 = MathF.FusedMultiplyAdd(dm0 * xs, sum, n0);
                n1 = MathF.FusedMultiplyAdd(dm1 * xs, sum, n1);
                n2 = MathF.FusedMultiplyAdd(dm2 * xs, sum, n2);
                n3 = MathF.FusedMultiplyAdd(dm3 * xs, sum, n3);
            }
        }

        y[0] = Dot.Tree8(Unpermute(a0)) - n0;
        y[1] = Dot.Tree8(Unpermute(a1)) - n1;
        y[2] = Dot.Tree8(Unpermute(a2)) - n2;
        y[3] = Dot.Tree8(Unpermute(a3)) - n3;
    }

    /// <summary>The 8 int32 partial sums of one block (as floats, hadd order: see <see cref="Partials"/>), the activation already widened.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> PartialsW(Vector256<sbyte> w, Vector256<short> xl, Vector256<short> xh)
    {
        Vector256<int> lo = Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(w.GetLower()), xl);
        Vector256<int> hi = Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(w.GetUpper()), xh);
        return Vector256.ConvertToSingle(Avx2.HorizontalAdd(lo, hi));
    }
}
