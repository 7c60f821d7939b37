using System.Buffers.Binary;
using Cairn.Engine.Kernels;
using Cairn.Engine.Tensors;
using Cairn.Engine.Tests.TestSupport;

namespace Cairn.Engine.Tests.Kernels;

public class DequantizeTests
{
    private const ushort HalfOne = 0x3C00;
    private const ushort HalfHalf = 0x3800;  // 0.5
    private const ushort HalfTwo = 0x4000;

    [Fact]
    public void Q4_0_block_with_unit_scale_and_nibbles_0_to_15_gives_minus_8_to_7()
    {
        var block = new byte[18];
        BinaryPrimitives.WriteUInt16LittleEndian(block, HalfOne);
        for (int j = 0; j < 16; j++) block[2 + j] = (byte)(j | ((15 - j) << 4));
        var y = new float[32];
        Dequantize.Row(GgmlType.Q4_0, block, y);
        for (int j = 0; j < 16; j++)
        {
            Assert.Equal(j - 8, y[j]);
            Assert.Equal(7 - j, y[j + 16]);
        }
    }

    [Fact]
    public void Q8_0_block_scales_signed_bytes()
    {
        var block = new byte[34];
        BinaryPrimitives.WriteUInt16LittleEndian(block, HalfHalf);
        for (int i = 0; i < 32; i++) block[2 + i] = (byte)(sbyte)(i * 8 - 128);
        var y = new float[32];
        Dequantize.Row(GgmlType.Q8_0, block, y);
        for (int i = 0; i < 32; i++) Assert.Equal((i * 8 - 128) * 0.5f, y[i]);
    }

    [Fact]
    public void Q4_K_block_applies_six_bit_scales_and_mins()
    {
        var block = new byte[144];
        BinaryPrimitives.WriteUInt16LittleEndian(block, HalfOne);       // d
        BinaryPrimitives.WriteUInt16LittleEndian(block.AsSpan(2), HalfHalf); // dmin
        // Sub-blocks 0..3: scale j+1 and min j in the low 6 bits; sub-blocks 4..7: scale 40+j, min 50+j, whose high
        // two bits live in the top bits of bytes 0..3 (scale) and 4..7 (min).
        int[] sc = [1, 2, 3, 4, 40, 41, 42, 43];
        int[] m = [0, 1, 2, 3, 50, 51, 52, 53];
        for (int j = 0; j < 4; j++)
        {
            block[4 + j] = (byte)(sc[j] | ((sc[j + 4] >> 4) << 6));
            block[4 + j + 4] = (byte)(m[j] | ((m[j + 4] >> 4) << 6));
            block[4 + j + 8] = (byte)((sc[j + 4] & 0xF) | ((m[j + 4] & 0xF) << 4));
        }

        for (int i = 0; i < 128; i++) block[16 + i] = (byte)((i % 16) | ((15 - i % 16) << 4));
        var y = new float[256];
        Dequantize.Row(GgmlType.Q4_K, block, y);
        for (int s = 0; s < 8; s++)
        {
            for (int l = 0; l < 32; l++)
            {
                int q = s % 2 == 0 ? l % 16 : 15 - l % 16;
                Assert.Equal(sc[s] * q - 0.5f * m[s], y[32 * s + l]);
            }
        }
    }

    [Fact]
    public void Q6_K_block_assembles_six_bit_quants_with_signed_scales()
    {
        var block = new byte[210];
        // Element e = 128n + 32t + l gets quant (e % 64) - 32: low 4 bits in ql, high 2 bits in qh.
        for (int e = 0; e < 256; e++)
        {
            int n = e / 128, t = e % 128 / 32, l = e % 32, q = e % 64;
            int qlIndex = 64 * n + l + 32 * (t & 1);
            block[qlIndex] |= (byte)(t < 2 ? q & 0xF : (q & 0xF) << 4);
            block[128 + 32 * n + l] |= (byte)((q >> 4) << (2 * t));
        }

        for (int s = 0; s < 16; s++) block[192 + s] = (byte)(sbyte)(s - 8);
        BinaryPrimitives.WriteUInt16LittleEndian(block.AsSpan(208), HalfTwo);
        var y = new float[256];
        Dequantize.Row(GgmlType.Q6_K, block, y);
        for (int e = 0; e < 256; e++) Assert.Equal(2f * (e / 16 - 8) * (e % 64 - 32), y[e]);
    }

    [Fact]
    public void F16_conversion_equals_dotnet_half_for_all_65536_values_on_every_path()
    {
        var bits = new ushort[65536];
        for (int i = 0; i < bits.Length; i++) bits[i] = (ushort)i;
        var vectorised = new float[bits.Length];
        RowDot.ConvertF16(bits, vectorised);
        for (int i = 0; i < bits.Length; i++)
        {
            float expected = (float)BitConverter.UInt16BitsToHalf((ushort)i);
            KernelTestData.BitEqual(expected, HalfBits.F16ToSingle((ushort)i), $"scalar 0x{i:X4}");
            KernelTestData.BitEqual(expected, vectorised[i], $"vector 0x{i:X4}");
        }
    }

    [Fact]
    public void Bf16_conversion_is_the_upper_half_of_f32()
    {
        var bits = new ushort[65536];
        for (int i = 0; i < bits.Length; i++) bits[i] = (ushort)i;
        var vectorised = new float[bits.Length];
        RowDot.ConvertBf16(bits, vectorised);
        for (int i = 0; i < bits.Length; i += 7) KernelTestData.BitEqual(BitConverter.Int32BitsToSingle(i << 16), vectorised[i], $"0x{i:X4}");
    }

    [Fact]
    public void Dequantize_rejects_a_short_source()
    {
        Assert.Throws<ArgumentException>(() => Dequantize.Row(GgmlType.Q8_0, new byte[33], new float[32]));
    }
}
