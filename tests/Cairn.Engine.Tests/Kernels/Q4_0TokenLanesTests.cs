using Cairn.Engine.Inference;
using Cairn.Engine.Kernels;
using Cairn.Engine.Kernels.Reference;
using Cairn.Engine.Tensors;
using Cairn.Engine.Tests.TestSupport;

namespace Cairn.Engine.Tests.Kernels;

/// <summary>
/// The Q4_0 prefill kernel with tokens in the vector lanes (<see cref="RowDot.ComputeRowsTokensQ4_0"/>) against
/// <see cref="ReferenceRowDot"/>, bit for bit. Its AVX2 variant (no VNNI) runs in <see cref="KernelFingerprintSubprocessTests"/>
/// with <c>DOTNET_EnableAVXVNNI=0</c>, and the scalar fallback with the hardware paths off.
/// </summary>
public class Q4_0TokenLanesTests
{
    private static (byte[] Rows, sbyte[] Xq, float[] Scales) Case(Random rng, int rowCount, int cols, int tokens, bool fullRangeBytes)
    {
        byte[] rows = KernelTestData.Row(rng, GgmlType.Q4_0, cols * rowCount);
        var xq = new sbyte[tokens * cols];
        var scales = new float[tokens * (cols / 32)];
        if (fullRangeBytes)
        {
            // Every byte value, −128 included (the quantizer never writes it, the kernel must still be exact).
            for (int i = 0; i < xq.Length; i++) xq[i] = (sbyte)rng.Next(-128, 128);
            for (int i = 0; i < scales.Length; i++) scales[i] = (float)(rng.NextDouble() * 0.1);
        }
        else
        {
            var sums = new int[cols / 32];
            for (int t = 0; t < tokens; t++)
                ActivationQuantizer.Quantize(KernelTestData.Floats(rng, cols, 4f), xq.AsSpan(t * cols, cols), scales.AsSpan(t * (cols / 32), cols / 32), sums);
        }

        return (rows, xq, scales);
    }

    private static void AssertReference(byte[] rows, int rowCount, int cols, int tokens, sbyte[] xq, float[] scales, float[] y, int stride, string context)
    {
        int rowBytes = (int)GgmlTypeInfo.RowBytes(GgmlType.Q4_0, cols), b32 = cols / 32;
        for (int t = 0; t < tokens; t++)
        {
            for (int r = 0; r < rowCount; r++)
            {
                float expected = ReferenceRowDot.Compute(GgmlType.Q4_0, rows.AsSpan(r * rowBytes, rowBytes), cols, [], xq.AsSpan(t * cols, cols),
                                                         scales.AsSpan(t * b32, b32), []);
                KernelTestData.BitEqual(expected, y[t * stride + r], $"{context} r={r} t={t}");
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Prepared_token_lanes_give_the_reference_for_1_to_20_tokens_1_to_9_rows_and_up_to_300_columns(bool fullRangeBytes)
    {
        if (!RowDot.Q4_0TokenLanesSupported)
        {
            Assert.Throws<PlatformNotSupportedException>(() => RowDot.ComputeRowsTokensQ4_0(new byte[18], 1, 32, 1, new byte[320], new float[1], 1));
            return;
        }

        var rng = new Random(fullRangeBytes ? 71 : 70);
        foreach (int cols in new[] { 32, 64, 96, 160, 288, 2048 })
        {
            for (int tokens = 1; tokens <= 20; tokens += cols > 300 ? 7 : 1)
            {
                foreach (int rowCount in new[] { 1, 3, 4, 5, 8, 9 })
                {
                    var (rows, xq, scales) = Case(rng, rowCount, cols, tokens, fullRangeBytes);
                    var lanes = new byte[RowDot.Q4_0TokenLanesBytes(tokens, cols)];
                    RowDot.PrepareQ4_0TokenLanes(xq, scales, tokens, cols, lanes);
                    int stride = rowCount + 1;
                    var y = new float[(tokens - 1) * stride + rowCount];
                    RowDot.ComputeRowsTokensQ4_0(rows, rowCount, cols, tokens, lanes, y, stride);
                    AssertReference(rows, rowCount, cols, tokens, xq, scales, y, stride, $"cols={cols} tokens={tokens} rows={rowCount}");
                }
            }
        }
    }

    [Fact]
    public void Lanes_hold_the_documented_layout()
    {
        var rng = new Random(72);
        const int cols = 64, tokens = 11;
        var (_, xq, scales) = Case(rng, 1, cols, tokens, fullRangeBytes: true);
        var lanes = new byte[RowDot.Q4_0TokenLanesBytes(tokens, cols)];
        Array.Fill(lanes, (byte)0xAB);   // stale bytes must not survive in the padded tokens
        RowDot.PrepareQ4_0TokenLanes(xq, scales, tokens, cols, lanes);
        Assert.Equal(2 * 2 * RowDot.Q4_0LaneRecordBytes, lanes.Length);
        for (int g = 0; g < 2; g++)
        {
            for (int b = 0; b < 2; b++)
            {
                int rec = (g * 2 + b) * RowDot.Q4_0LaneRecordBytes;
                for (int t = 0; t < 8; t++)
                {
                    int token = 8 * g + t;
                    bool present = token < tokens;
                    int sum = 0;
                    for (int i = 0; i < 32; i++)
                    {
                        sbyte expected = present ? xq[token * cols + 32 * b + i] : (sbyte)0;
                        Assert.Equal(expected, (sbyte)lanes[rec + 32 * (i / 4) + 4 * t + i % 4]);
                        sum += expected;
                    }

                    Assert.Equal(-8 * sum, BitConverter.ToInt32(lanes, rec + 256 + 4 * t));
                    Assert.Equal(present ? scales[token * 2 + b] : 0f, BitConverter.ToSingle(lanes, rec + 288 + 4 * t));
                }
            }
        }
    }

    [Fact]
    public void Short_or_malformed_inputs_are_refused_and_write_nothing()
    {
        const int cols = 64, tokens = 9, rowCount = 5;
        var (rows, xq, scales) = Case(new Random(73), rowCount, cols, tokens, false);
        var lanes = new byte[RowDot.Q4_0TokenLanesBytes(tokens, cols)];
        RowDot.PrepareQ4_0TokenLanes(xq, scales, tokens, cols, lanes);
        var y = new float[tokens * rowCount];
        Assert.Throws<ArgumentException>(() => RowDot.ComputeRowsTokensQ4_0(rows, rowCount, cols, tokens, lanes.AsSpan(0, lanes.Length - 1), y, rowCount));
        Assert.Throws<ArgumentException>(() => RowDot.ComputeRowsTokensQ4_0(rows.AsSpan(0, rows.Length - 1), rowCount, cols, tokens, lanes, y, rowCount));
        Assert.Throws<ArgumentException>(() => RowDot.ComputeRowsTokensQ4_0(rows, rowCount, cols, tokens, lanes, y.AsSpan(0, y.Length - 1), rowCount));
        Assert.Throws<ArgumentOutOfRangeException>(() => RowDot.ComputeRowsTokensQ4_0(rows, rowCount, cols, tokens, lanes, y, rowCount - 1));
        Assert.Throws<ArgumentException>(() => RowDot.PrepareQ4_0TokenLanes(xq, scales, tokens, 48, lanes));
        Assert.Throws<ArgumentException>(() => RowDot.PrepareQ4_0TokenLanes(xq.AsSpan(1), scales, tokens, cols, lanes));
        Assert.Throws<ArgumentException>(() => RowDot.PrepareQ4_0TokenLanes(xq, scales, tokens, cols, lanes.AsSpan(1)));
        Assert.All(y, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Lanes_prepared_group_by_group_equal_lanes_prepared_at_once()
    {
        var rng = new Random(75);
        const int cols = 96, tokens = 21;
        var (_, xq, scales) = Case(rng, 1, cols, tokens, fullRangeBytes: true);
        var whole = new byte[RowDot.Q4_0TokenLanesBytes(tokens, cols)];
        RowDot.PrepareQ4_0TokenLanes(xq, scales, tokens, cols, whole);
        var pieces = new byte[whole.Length];
        Array.Fill(pieces, (byte)0x5A);
        RowDot.PrepareQ4_0TokenLanes(xq, scales, tokens, cols, pieces, 2, 1);   // the threads' split, in another order
        RowDot.PrepareQ4_0TokenLanes(xq, scales, tokens, cols, pieces, 0, 2);
        Assert.Equal(whole, pieces);
        Assert.Throws<ArgumentOutOfRangeException>(() => RowDot.PrepareQ4_0TokenLanes(xq, scales, tokens, cols, pieces, 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => RowDot.PrepareQ4_0TokenLanes(xq, scales, tokens, cols, pieces, -1, 1));
    }

    [Fact]
    public void A_batch_quantized_token_by_token_equals_one_quantized_at_once()
    {
        var rng = new Random(76);
        const int cols = 64, tokens = 9;
        float[] data = KernelTestData.Floats(rng, tokens * cols, 5f);
        var once = new ActivationBatch(data, tokens, cols);
        once.EnsureQ4_0Lanes();
        var split = new ActivationBatch(data, tokens, cols);
        split.EnsureBuffers();
        split.QuantizeRows(5, 4);
        split.QuantizeRows(0, 5);
        split.MarkQuantized();
        Assert.True(split.IsQuantized);
        Assert.False(split.HasQ4_0Lanes);
        split.EnsureLaneBuffer();
        split.PrepareQ4_0LaneGroups(1, 1);
        split.PrepareQ4_0LaneGroups(0, 1);
        split.MarkQ4_0Lanes();
        Assert.Equal(once.QuantizedAll.ToArray(), split.QuantizedAll.ToArray());
        Assert.Equal(once.ScalesAll.ToArray(), split.ScalesAll.ToArray());
        Assert.Equal(once.SumsAll.ToArray(), split.SumsAll.ToArray());
        Assert.Equal(once.Q4_0Lanes.ToArray(), split.Q4_0Lanes.ToArray());
    }

    [Fact]
    public void A_batch_lays_its_lanes_out_again_after_its_data_changes()
    {
        var rng = new Random(74);
        const int cols = 96, tokens = 10;
        float[] data = KernelTestData.Floats(rng, tokens * cols, 3f);
        var batch = new ActivationBatch(data, tokens, cols);
        batch.EnsureQ4_0Lanes();
        byte[] first = batch.Q4_0Lanes.ToArray();
        Assert.Equal(Prepared(data, tokens, cols), first);

        KernelTestData.Floats(rng, tokens * cols, 3f).CopyTo(data, 0);
        batch.Invalidate();
        Assert.Throws<InvalidOperationException>(() => batch.Q4_0Lanes.Length);
        batch.EnsureQ4_0Lanes();
        Assert.Equal(Prepared(data, tokens, cols), batch.Q4_0Lanes.ToArray());
        Assert.NotEqual(first, batch.Q4_0Lanes.ToArray());
    }

    private static byte[] Prepared(float[] data, int tokens, int cols)
    {
        var xq = new sbyte[tokens * cols];
        var scales = new float[tokens * (cols / 32)];
        var sums = new int[tokens * (cols / 32)];
        ActivationQuantizer.Quantize(data, xq, scales, sums);
        var lanes = new byte[RowDot.Q4_0TokenLanesBytes(tokens, cols)];
        RowDot.PrepareQ4_0TokenLanes(xq, scales, tokens, cols, lanes);
        return lanes;
    }
}
