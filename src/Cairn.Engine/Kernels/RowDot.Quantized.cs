using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Cairn.Engine.Kernels.Blocks;
using Cairn.Engine.Kernels.Reference;
using Cairn.Engine.Tensors;

namespace Cairn.Engine.Kernels;

/// <summary>
/// The quantized rows with AVX2 (Q4_0 has its own order and kernel, <see cref="Q4_0RowAvx2"/>): each 32-element block's integer weights are unpacked into 32 signed bytes, widened
/// with the activation bytes to int16 (so nothing saturates, whatever the bytes: Q8_0 weights may be -128), multiplied
/// and pair-added to int32 (vpmaddwd), pair-added again to the 8 partial sums P_j of 4 elements, and scaled into the
/// 8 float lanes with one FMA — <see cref="ReferenceRowDot"/>'s order exactly.
/// </summary>
public static partial class RowDot
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float QuantizedAvx2(GgmlType type, ReadOnlySpan<byte> row, int cols, ReadOnlySpan<sbyte> xq,
                                       ReadOnlySpan<float> xScales, ReadOnlySpan<int> xSums)
    {
        ref byte rw = ref MemoryMarshal.GetReference(row);
        ref sbyte rx = ref MemoryMarshal.GetReference(xq);
        int blocks = cols / 32;
        Vector256<float> acc = Vector256<float>.Zero;
        float mins = 0f;
        switch (type)
        {
            case GgmlType.Q8_0:
                for (int b = 0; b < blocks; b++)
                {
                    ref byte blk = ref Unsafe.Add(ref rw, b * BlockQ8_0.Bytes);
                    Vector256<sbyte> w = Vector256.LoadUnsafe(ref Unsafe.Add(ref blk, 2)).AsSByte();
                    acc = Step(acc, w, ref rx, b, Vector256.Create(F16(ref blk) * xScales[b]));
                }

                break;
            case GgmlType.Q4_K:
                Span<int> sc = stackalloc int[8], m = stackalloc int[8];
                for (int sb = 0; sb < blocks / 8; sb++)
                {
                    ref byte blk = ref Unsafe.Add(ref rw, sb * BlockQ4_K.Bytes);
                    ReadOnlySpan<byte> packedScales = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref blk, 4), 12);
                    for (int j = 0; j < 8; j++) BlockQ4_K.GetScaleMin(j, packedScales, out sc[j], out m[j]);
                    float d = F16(ref blk), dmin = F16(ref Unsafe.Add(ref blk, 2));
                    for (int sub = 0; sub < 8; sub++)
                    {
                        int b = 8 * sb + sub;
                        Vector256<byte> packed = Vector256.LoadUnsafe(ref Unsafe.Add(ref blk, 16 + 32 * (sub >> 1)));
                        Vector256<byte> q = (sub & 1) == 0 ? packed & Vector256.Create((byte)0x0F) : Vector256.ShiftRightLogical(packed, 4);
                        float xs = xScales[b];
                        float dsc = d * sc[sub];
                        acc = Step(acc, q.AsSByte(), ref rx, b, Vector256.Create(dsc * xs));
                        float dm = dmin * m[sub];
                        mins = MathF.FusedMultiplyAdd(dm * xs, xSums[b], mins);
                    }
                }

                break;
            case GgmlType.Q6_K:
                for (int sb = 0; sb < blocks / 8; sb++)
                {
                    ref byte blk = ref Unsafe.Add(ref rw, sb * BlockQ6_K.Bytes);
                    float d = F16(ref Unsafe.Add(ref blk, BlockQ6_K.DOffset));
                    ref sbyte scales = ref Unsafe.As<byte, sbyte>(ref Unsafe.Add(ref blk, BlockQ6_K.ScalesOffset));
                    for (int c = 0; c < 8; c++)
                    {
                        int b = 8 * sb + c, half = c / 4, t = c % 4;
                        Vector256<byte> ql = Vector256.LoadUnsafe(ref Unsafe.Add(ref blk, BlockQ6_K.QlOffset + 64 * half + 32 * (t & 1)));
                        Vector256<byte> qh = Vector256.LoadUnsafe(ref Unsafe.Add(ref blk, BlockQ6_K.QhOffset + 32 * half));
                        Vector256<byte> low = t < 2 ? ql & Vector256.Create((byte)0x0F) : Vector256.ShiftRightLogical(ql, 4);
                        Vector256<byte> high = Vector256.ShiftRightLogical(qh, 2 * t) & Vector256.Create((byte)3);
                        Vector256<sbyte> w = (low | Vector256.ShiftLeft(high, 4)).AsSByte() - Vector256.Create((sbyte)32);
                        float xs = xScales[b];
                        float dsc0 = d * Unsafe.Add(ref scales, 2 * c);
                        float dsc1 = d * Unsafe.Add(ref scales, 2 * c + 1);
                        Vector256<float> s = Vector256.Create(Vector128.Create(dsc0 * xs), Vector128.Create(dsc1 * xs));
                        acc = Step(acc, w, ref rx, b, s);
                    }
                }

                break;
            default:
                KernelGuard.ThrowUnsupported(type);
                break;
        }

        return Dot.Tree8(acc) - mins;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Step(Vector256<float> acc, Vector256<sbyte> w, ref sbyte rx, int block, Vector256<float> scale)
    {
        Vector256<sbyte> x = Vector256.LoadUnsafe(ref rx, (nuint)(32 * block));
        Vector256<int> lo = Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(w.GetLower()), Avx2.ConvertToVector256Int16(x.GetLower()));
        Vector256<int> hi = Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(w.GetUpper()), Avx2.ConvertToVector256Int16(x.GetUpper()));
        // hadd gives [P0 P1 P4 P5 | P2 P3 P6 P7]; swapping the middle 64-bit pairs restores P0..P7.
        Vector256<int> p = Avx2.Permute4x64(Avx2.HorizontalAdd(lo, hi).AsInt64(), 0b11_01_10_00).AsInt32();
        return Vector256.FusedMultiplyAdd(scale, Vector256.ConvertToSingle(p), acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float F16(ref byte at) =>
        HalfBits.F16ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(MemoryMarshal.CreateReadOnlySpan(ref at, 2)));
}
