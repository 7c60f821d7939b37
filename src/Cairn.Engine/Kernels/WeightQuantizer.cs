using System.Buffers.Binary;
using Cairn.Engine.Kernels.Blocks;
using Cairn.Engine.Tensors;

namespace Cairn.Engine.Kernels;

/// <summary>
/// f32 → stored weight type, as ggml's reference quantizers do it (<c>quantize_row_q8_0_ref</c>,
/// <c>quantize_row_q4_0_ref</c>). Per block of 32:
/// Q8_0: amax = max |x|; d = amax / 127; id = d != 0 ? 1 / d : 0; q = round_half_away(x · id); d stored as f16.
/// Q4_0: m = the element of largest magnitude (first one on ties, sign kept); d = m / −8; id = d != 0 ? 1 / d : 0;
/// q = min(15, trunc(x · id + 8.5)); element j is the low nibble of qs[j], element j + 16 the high nibble.
/// F16: round to nearest even. Used off the hashed path (the cheaper-type fault requantizes a model once at load).
/// </summary>
public static class WeightQuantizer
{
    /// <summary>Types a row can be written in.</summary>
    public static bool CanWrite(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.Q8_0 or GgmlType.Q4_0;

    /// <summary>Writes <paramref name="x"/> as one row of <paramref name="type"/> (<c>GgmlTypeInfo.RowBytes(type, x.Length)</c> bytes).</summary>
    public static void Row(GgmlType type, ReadOnlySpan<float> x, Span<byte> dst)
    {
        if (!CanWrite(type)) throw new NotSupportedException($"writing weights of type {type} is not supported (F32, F16, Q8_0, Q4_0)");
        int n = x.Length;
        if (GgmlTypeInfo.BlockSize(type) is var bs && n % bs != 0) throw new ArgumentException($"a row of {type} holds a multiple of {bs} elements, got {n}", nameof(x));
        KernelGuard.AtLeast(dst.Length, (int)GgmlTypeInfo.RowBytes(type, n), nameof(dst));
        switch (type)
        {
            case GgmlType.F32:
                for (int i = 0; i < n; i++) BinaryPrimitives.WriteSingleLittleEndian(dst[(4 * i)..], x[i]);
                break;
            case GgmlType.F16:
                for (int i = 0; i < n; i++) BinaryPrimitives.WriteUInt16LittleEndian(dst[(2 * i)..], BitConverter.HalfToUInt16Bits((Half)x[i]));
                break;
            case GgmlType.Q8_0:
                for (int b = 0; b < n / 32; b++) Q8_0(x.Slice(b * 32, 32), dst.Slice(b * BlockQ8_0.Bytes, BlockQ8_0.Bytes));
                break;
            case GgmlType.Q4_0:
                for (int b = 0; b < n / 32; b++) Q4_0(x.Slice(b * 32, 32), dst.Slice(b * BlockQ4_0.Bytes, BlockQ4_0.Bytes));
                break;
        }
    }

    private static void Q8_0(ReadOnlySpan<float> x, Span<byte> block)
    {
        float amax = 0f;
        for (int i = 0; i < 32; i++) amax = MathF.Max(amax, MathF.Abs(x[i]));
        float d = amax / 127f;
        float id = d != 0f ? 1f / d : 0f;
        BinaryPrimitives.WriteUInt16LittleEndian(block, BitConverter.HalfToUInt16Bits((Half)d));
        for (int i = 0; i < 32; i++) block[2 + i] = (byte)(sbyte)Math.Clamp(MathF.Round(x[i] * id, MidpointRounding.AwayFromZero), -127f, 127f);
    }

    private static void Q4_0(ReadOnlySpan<float> x, Span<byte> block)
    {
        float amax = 0f, max = 0f;
        for (int i = 0; i < 32; i++)
        {
            if (MathF.Abs(x[i]) > amax)
            {
                amax = MathF.Abs(x[i]);
                max = x[i];
            }
        }
        float d = max / -8f;
        float id = d != 0f ? 1f / d : 0f;
        BinaryPrimitives.WriteUInt16LittleEndian(block, BitConverter.HalfToUInt16Bits((Half)d));
        for (int j = 0; j < 16; j++)
        {
            int lo = Math.Min(15, (int)(sbyte)(x[j] * id + 8.5f));
            int hi = Math.Min(15, (int)(sbyte)(x[j + 16] * id + 8.5f));
            block[2 + j] = (byte)(lo | (hi << 4));
        }
    }
}
