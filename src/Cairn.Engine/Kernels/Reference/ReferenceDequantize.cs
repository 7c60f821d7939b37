using System.Buffers.Binary;
using Cairn.Engine.Kernels.Blocks;
using Cairn.Engine.Tensors;

namespace Cairn.Engine.Kernels.Reference;

/// <summary>
/// Conversion of raw GGUF elements to f32, as ggml defines each format. F16 and BF16 are exact; the quantized
/// values are computed with plain f32 multiplications in the order written here (never fused):
/// Q8_0 d*q; Q4_0 d*(q-8); Q4_K (d*sc)*q - (dmin*m); Q6_K (d*sc)*(q-32).
/// </summary>
public static class ReferenceDequantize
{
    public static void Row(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        int n = dst.Length;
        if (!GgmlTypeInfo.IsSupported(type)) KernelGuard.ThrowUnsupported(type);
        KernelGuard.AtLeast(src.Length, (int)GgmlTypeInfo.RowBytes(type, n), nameof(src));
        switch (type)
        {
            case GgmlType.F32:
                for (int i = 0; i < n; i++) dst[i] = BinaryPrimitives.ReadSingleLittleEndian(src.Slice(4 * i));
                break;
            case GgmlType.F16:
                for (int i = 0; i < n; i++) dst[i] = HalfBits.F16ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(src.Slice(2 * i)));
                break;
            case GgmlType.BF16:
                for (int i = 0; i < n; i++) dst[i] = HalfBits.Bf16ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(src.Slice(2 * i)));
                break;
            case GgmlType.Q8_0:
                for (int b = 0; b < n / 32; b++) Q8_0(src.Slice(b * BlockQ8_0.Bytes, BlockQ8_0.Bytes), dst.Slice(b * 32, 32));
                break;
            case GgmlType.Q4_0:
                for (int b = 0; b < n / 32; b++) Q4_0(src.Slice(b * BlockQ4_0.Bytes, BlockQ4_0.Bytes), dst.Slice(b * 32, 32));
                break;
            case GgmlType.Q4_K:
                for (int b = 0; b < n / 256; b++) Q4_K(src.Slice(b * BlockQ4_K.Bytes, BlockQ4_K.Bytes), dst.Slice(b * 256, 256));
                break;
            case GgmlType.Q6_K:
                for (int b = 0; b < n / 256; b++) Q6_K(src.Slice(b * BlockQ6_K.Bytes, BlockQ6_K.Bytes), dst.Slice(b * 256, 256));
                break;
        }
    }

    private static void Q8_0(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = HalfBits.F16ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(block));
        for (int i = 0; i < 32; i++) y[i] = d * (sbyte)block[2 + i];
    }

    private static void Q4_0(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = HalfBits.F16ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(block));
        for (int j = 0; j < 16; j++)
        {
            y[j] = d * ((block[2 + j] & 0xF) - 8);
            y[j + 16] = d * ((block[2 + j] >> 4) - 8);
        }
    }

    private static void Q4_K(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = HalfBits.F16ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(block));
        float dmin = HalfBits.F16ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(block.Slice(2)));
        ReadOnlySpan<byte> scales = block.Slice(4, 12);
        ReadOnlySpan<byte> qs = block.Slice(16, 128);
        for (int s = 0; s < 8; s++)
        {
            BlockQ4_K.GetScaleMin(s, scales, out int sc, out int m);
            float d1 = d * sc;
            float m1 = dmin * m;
            int shift = 4 * (s & 1);
            for (int l = 0; l < 32; l++)
            {
                int q = (qs[32 * (s >> 1) + l] >> shift) & 0xF;
                float scaled = d1 * q;
                y[32 * s + l] = scaled - m1;
            }
        }
    }

    private static void Q6_K(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = HalfBits.F16ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(block.Slice(BlockQ6_K.DOffset)));
        for (int e = 0; e < 256; e++)
        {
            float dsc = d * (sbyte)block[BlockQ6_K.ScalesOffset + e / 16];
            y[e] = dsc * Q6KQuant(block, e);
        }
    }

    /// <summary>The integer quant of element <paramref name="e"/> of a Q6_K block, already minus 32 (-32..31).</summary>
    internal static int Q6KQuant(ReadOnlySpan<byte> block, int e)
    {
        int n = e / 128, t = (e % 128) / 32, l = e % 32;
        int ql = block[BlockQ6_K.QlOffset + 64 * n + l + 32 * (t & 1)];
        int low = t < 2 ? ql & 0xF : ql >> 4;
        int high = (block[BlockQ6_K.QhOffset + 32 * n + l] >> (2 * t)) & 3;
        return (low | (high << 4)) - 32;
    }
}
