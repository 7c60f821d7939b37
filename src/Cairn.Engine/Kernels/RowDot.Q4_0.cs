using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Cairn.Engine.Kernels.Blocks;

namespace Cairn.Engine.Kernels;

/// <summary>
/// Q4_0 rows in <see cref="Reference.ReferenceRowDot"/>'s Q4_0 order: per block one exact int32 sum of its 32 products,
/// then acc = fma(d · xs, (float)P, acc) in one f32 accumulator. The integer sum may be formed any way (it is exact);
/// the float steps are the reference's, one per block.
/// </summary>
public static partial class RowDot
{
    /// <summary>One Q4_0 row, AVX2: the block's weights and activations widened to int16, multiplied and pair-added
    /// (vpmaddwd, exact for any bytes), the 8 int32 lanes summed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Q4_0RowAvx2(ReadOnlySpan<byte> row, int blocks, ReadOnlySpan<sbyte> xq, ReadOnlySpan<float> xScales)
    {
        ref byte rw = ref MemoryMarshal.GetReference(row);
        ref sbyte rx = ref MemoryMarshal.GetReference(xq);
        ref float rs = ref MemoryMarshal.GetReference(xScales);
        ref float f16 = ref HalfBits.F16Table0;
        float acc = 0f;
        for (int b = 0; b < blocks; b++)
        {
            ref byte blk = ref Unsafe.Add(ref rw, b * BlockQ4_0.Bytes);
            int p = Q4_0BlockSum(ref blk, ref Unsafe.Add(ref rx, 32 * b));
            acc = MathF.FusedMultiplyAdd(HalfBits.F16At(ref f16, ref blk) * Unsafe.Add(ref rs, b), p, acc);
        }

        return acc;
    }

    /// <summary>Σ_{k&lt;32} (q_k − 8) · x_k of one Q4_0 block (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Q4_0BlockSum(ref byte blk, ref sbyte x)
    {
        Vector128<byte> packed = Vector128.LoadUnsafe(ref Unsafe.Add(ref blk, 2));
        Vector128<sbyte> eight = Vector128.Create((sbyte)8);
        Vector128<sbyte> lo = (packed & Vector128.Create((byte)0x0F)).AsSByte() - eight;
        Vector128<sbyte> hi = Vector128.ShiftRightLogical(packed, 4).AsSByte() - eight;
        Vector256<sbyte> xb = Vector256.LoadUnsafe(ref x);
        Vector256<int> s = Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(lo), Avx2.ConvertToVector256Int16(xb.GetLower()))
                         + Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(hi), Avx2.ConvertToVector256Int16(xb.GetUpper()));
        return Vector256.Sum(s);
    }
}
