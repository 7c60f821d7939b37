using System.Buffers.Binary;
using Cairn.Engine.Kernels;
using Cairn.Engine.Kernels.Reference;
using Cairn.Engine.Tensors;
using Cairn.Engine.Tests.TestSupport;

namespace Cairn.Engine.Tests.Kernels;

/// <summary>
/// The eight-row K-quant decode kernels (<c>RowDot.KQuants.cs</c>) against <see cref="ReferenceRowDot"/>, bit for bit:
/// row counts that reach the eight-row passes, the four-row pass and the single-row tail in every combination, rows of
/// 0 to 5 super-blocks, every activation byte, and f16 scale fields of every kind (zeros, subnormals, the largest
/// finite, infinities, NaNs). The same kernels run with AVX-512, AVX-VNNI (their AVX2 form), AVX2 or all intrinsics off
/// through <see cref="KernelFingerprint"/> in <see cref="KernelFingerprintSubprocessTests"/>.
/// </summary>
public class KQuantRowsTests
{
    public static TheoryData<GgmlType> KQuantTypes => [GgmlType.Q4_K, GgmlType.Q6_K];

    /// <summary>f16 bit patterns of every kind but NaN: ±0, the smallest and largest subnormal, 1, the largest finite, ±Inf.</summary>
    private static readonly ushort[] SpecialHalves = [0x0000, 0x8000, 0x0001, 0x83FF, 0x3C00, 0x7BFF, 0xFBFF, 0x7C00, 0xFC00];

    [Theory]
    [MemberData(nameof(KQuantTypes))]
    public void Multi_row_decode_equals_reference_for_0_to_5_super_blocks_and_1_to_27_rows(GgmlType type)
    {
        var rng = new Random(1200 + (int)type);
        foreach (int superBlocks in new[] { 0, 1, 2, 5 })
        {
            int cols = 256 * superBlocks;
            for (int rowCount = 1; rowCount <= 27; rowCount++)
            {
                byte[] rows = KernelTestData.Row(rng, type, cols * rowCount);
                (sbyte[] xq, float[] scales, int[] sums) = Activation(rng, cols, fullRange: rowCount % 2 == 0);
                Check(type, rows, rowCount, cols, xq, scales, sums, $"sb={superBlocks} rows={rowCount}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(KQuantTypes))]
    public void Multi_row_decode_equals_reference_with_special_f16_scales(GgmlType type)
    {
        var rng = new Random(1300 + (int)type);
        const int rowCount = 21, superBlocks = 3, cols = 256 * superBlocks; // passes of 8, 8 and 4 rows, then one row
        int[] halves = type == GgmlType.Q4_K ? [0, 2] : [208];
        int blockBytes = GgmlTypeInfo.BlockBytes(type);
        for (int round = 0; round < 20; round++)
        {
            byte[] rows = KernelTestData.Row(rng, type, cols * rowCount);
            for (int at = 0; at < rows.Length; at += blockBytes)
            {
                foreach (int o in halves)
                {
                    if (rng.Next(3) == 0) BinaryPrimitives.WriteUInt16LittleEndian(rows.AsSpan(at + o), SpecialHalves[rng.Next(SpecialHalves.Length)]);
                }
            }

            (sbyte[] xq, float[] scales, int[] sums) = Activation(rng, cols, fullRange: round % 2 == 1);
            Check(type, rows, rowCount, cols, xq, scales, sums, $"special round={round}");
        }
    }

    [Theory]
    [MemberData(nameof(KQuantTypes))]
    public void Multi_row_decode_equals_reference_with_a_nan_scale_in_a_row(GgmlType type)
    {
        // One NaN (its own payload) per row at most, so the result's payload does not depend on which of two NaNs an
        // instruction propagates: the reference's order of operations then fixes the bits.
        var rng = new Random(1400 + (int)type);
        const int rowCount = 16, superBlocks = 2, cols = 256 * superBlocks;
        int rowBytes = (int)GgmlTypeInfo.RowBytes(type, cols), blockBytes = GgmlTypeInfo.BlockBytes(type);
        byte[] rows = KernelTestData.Row(rng, type, cols * rowCount);
        for (int r = 0; r < rowCount; r += 2)
        {
            int at = r * rowBytes + blockBytes * rng.Next(superBlocks);
            int o = type == GgmlType.Q6_K ? 208 : 2 * rng.Next(2);
            BinaryPrimitives.WriteUInt16LittleEndian(rows.AsSpan(at + o), (ushort)(0x7C00 | (rng.Next(2) << 15) | (1 + rng.Next(0x3FF))));
        }

        (sbyte[] xq, float[] scales, int[] sums) = Activation(rng, cols, fullRange: false);
        Check(type, rows, rowCount, cols, xq, scales, sums, "nan");
    }

    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q6_K)]
    public void Multi_row_decode_of_rows_of_no_columns_equals_reference(GgmlType type)
    {
        // The multi-row passes divided the row's bytes by its block count; rows of 0 columns now go to the one-row
        // kernel (found by the test above with AVX-VNNI switched off).
        for (int rowCount = 1; rowCount <= 17; rowCount++) Check(type, [], rowCount, 0, [], [], [], $"empty rows={rowCount}");
    }

    private static void Check(GgmlType type, byte[] rows, int rowCount, int cols, sbyte[] xq, float[] scales, int[] sums, string context)
    {
        int rowBytes = (int)GgmlTypeInfo.RowBytes(type, cols);
        var y = new float[rowCount + 1];
        y[rowCount] = 12345f;
        RowDot.ComputeRows(type, rows, rowCount, cols, [], xq, scales, sums, y);
        for (int r = 0; r < rowCount; r++)
        {
            float expected = ReferenceRowDot.Compute(type, rows.AsSpan(r * rowBytes, rowBytes), cols, [], xq, scales, sums);
            KernelTestData.BitEqual(expected, y[r], $"{type} {context} r={r}");
        }

        Assert.Equal(12345f, y[rowCount]);
    }

    /// <summary>A quantized activation: from <see cref="ActivationQuantizer"/>, or every byte from −128 to 127 at random with exact sums.</summary>
    private static (sbyte[] Xq, float[] Scales, int[] Sums) Activation(Random rng, int cols, bool fullRange)
    {
        var xq = new sbyte[cols];
        var scales = new float[cols / 32];
        var sums = new int[cols / 32];
        if (!fullRange)
        {
            ActivationQuantizer.Quantize(KernelTestData.Floats(rng, cols, 4f), xq, scales, sums);
            return (xq, scales, sums);
        }

        for (int i = 0; i < cols; i++) xq[i] = (sbyte)rng.Next(-128, 128);
        for (int b = 0; b < scales.Length; b++)
        {
            scales[b] = (float)(rng.NextDouble() * 0.05);
            for (int k = 0; k < 32; k++) sums[b] += xq[32 * b + k];
        }

        return (xq, scales, sums);
    }
}
