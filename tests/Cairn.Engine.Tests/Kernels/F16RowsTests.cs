using System.Buffers.Binary;
using Cairn.Engine.Kernels;
using Cairn.Engine.Kernels.Reference;
using Cairn.Engine.Tensors;
using Cairn.Engine.Tests.TestSupport;

namespace Cairn.Engine.Tests.Kernels;

/// <summary>The short f16 → f32 conversion and the 4-row F16 decode kernel reproduce the reference bit for bit.</summary>
public class F16RowsTests
{
    [Fact]
    public void F16_conversion_of_all_65536_halves_equals_the_exact_conversion_and_the_runtimes()
    {
        ushort[] all = new ushort[65536 + 7]; // + 7: a tail past the vectors
        for (int h = 0; h < all.Length; h++) all[h] = (ushort)(h * 40503 % 65536);
        float[] converted = new float[all.Length];
        RowDot.ConvertF16(all, converted);
        for (int i = 0; i < all.Length; i++)
        {
            float expected = HalfBits.F16ToSingle(all[i]);
            Assert.True(BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(converted[i]), $"0x{all[i]:X4}");
            float runtime = (float)BitConverter.UInt16BitsToHalf(all[i]);
            if (!float.IsNaN(runtime)) Assert.Equal(BitConverter.SingleToUInt32Bits(runtime), BitConverter.SingleToUInt32Bits(expected));
            else Assert.True(float.IsNaN(expected), $"0x{all[i]:X4}");
        }
    }

    [Fact]
    public void F16_rows_equal_reference_for_lengths_0_to_300_and_1_to_9_rows()
    {
        var rng = new Random(910);
        for (int cols = 0; cols <= 300; cols++)
        {
            int rowCount = 1 + cols % 9;
            int rowBytes = 2 * cols;
            byte[] rows = new byte[rowCount * rowBytes];
            for (int r = 0; r < rowCount; r++) KernelTestData.Row(rng, GgmlType.F16, cols).CopyTo(rows, r * rowBytes);
            float[] x = KernelTestData.Floats(rng, cols, 2f);
            float[] y = new float[rowCount];
            RowDot.ComputeRows(GgmlType.F16, rows, rowCount, cols, x, [], [], [], y);
            for (int r = 0; r < rowCount; r++)
                KernelTestData.BitEqual(ReferenceRowDot.Compute(GgmlType.F16, rows.AsSpan(r * rowBytes, rowBytes), cols, x, [], [], []), y[r], $"cols={cols} row={r}");
        }
    }

    [Fact]
    public void F16_rows_over_every_finite_half_equal_reference()
    {
        var halves = new List<ushort>();
        for (int h = 0; h < 65536; h++)
        {
            if ((h & 0x7C00) != 0x7C00) halves.Add((ushort)h);
        }

        int cols = halves.Count, rowBytes = 2 * cols;
        byte[] rows = new byte[4 * rowBytes];
        for (int r = 0; r < 4; r++)
        {
            for (int i = 0; i < cols; i++) BinaryPrimitives.WriteUInt16LittleEndian(rows.AsSpan(r * rowBytes + 2 * i), halves[(i + 9973 * r) % cols]);
        }

        float[] x = KernelTestData.Floats(new Random(911), cols, 1f);
        float[] y = new float[4];
        RowDot.ComputeRows(GgmlType.F16, rows, 4, cols, x, [], [], [], y);
        for (int r = 0; r < 4; r++)
            KernelTestData.BitEqual(ReferenceRowDot.Compute(GgmlType.F16, rows.AsSpan(r * rowBytes, rowBytes), cols, x, [], [], []), y[r], $"row {r}");
    }

    [Theory]
    [InlineData((ushort)0x7C00)]
    [InlineData((ushort)0xFC00)]
    [InlineData((ushort)0x7E01)]
    [InlineData((ushort)0xFD55)]
    public void F16_rows_with_an_infinity_or_nan_equal_the_single_row_kernel(ushort special)
    {
        var rng = new Random(912 + special);
        foreach (int cols in new[] { 16, 40, 64, 100, 300 })
        {
            int rowBytes = 2 * cols;
            byte[] rows = new byte[5 * rowBytes];
            for (int r = 0; r < 5; r++) KernelTestData.Row(rng, GgmlType.F16, cols).CopyTo(rows, r * rowBytes);
            foreach (int at in new[] { 0, cols / 2, cols - 1 })
            {
                byte[] hit = (byte[])rows.Clone();
                int row = at % 5;
                BinaryPrimitives.WriteUInt16LittleEndian(hit.AsSpan(row * rowBytes + 2 * at), special);
                float[] x = KernelTestData.Floats(rng, cols, 1f);
                float[] y = new float[5];
                RowDot.ComputeRows(GgmlType.F16, hit, 5, cols, x, [], [], [], y);
                for (int r = 0; r < 5; r++)
                {
                    var one = hit.AsSpan(r * rowBytes, rowBytes);
                    KernelTestData.BitEqual(RowDot.Compute(GgmlType.F16, one, cols, x, [], [], []), y[r], $"0x{special:X4} cols={cols} at={at} row={r}");
                    Assert.Equal(float.IsNaN(ReferenceRowDot.Compute(GgmlType.F16, one, cols, x, [], [], [])), float.IsNaN(y[r]));
                }
            }
        }
    }
}
