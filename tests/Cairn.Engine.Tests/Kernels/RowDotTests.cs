using System.Buffers.Binary;
using Cairn.Engine.Kernels;
using Cairn.Engine.Kernels.Reference;
using Cairn.Engine.Tensors;
using Cairn.Engine.Tests.TestSupport;

namespace Cairn.Engine.Tests.Kernels;

public class RowDotTests
{
    public static TheoryData<GgmlType> QuantizedTypes => [GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K];

    public static TheoryData<GgmlType> FloatTypes => [GgmlType.F32, GgmlType.F16, GgmlType.BF16];

    [Theory]
    [MemberData(nameof(QuantizedTypes))]
    public void Fast_quantized_row_dot_equals_reference_for_1_to_12_blocks_and_a_larger_row(GgmlType type)
    {
        var rng = new Random(100 + (int)type);
        int blockSize = GgmlTypeInfo.BlockSize(type);
        foreach (int blocks in Enumerable.Range(1, 12).Append(blockSize == 256 ? 18 : 150))
        {
            for (int rep = 0; rep < 3; rep++)
            {
                int cols = blocks * blockSize;
                (byte[] row, sbyte[] xq, float[] scales, int[] sums) = Case(rng, type, cols);
                float expected = ReferenceRowDot.Compute(type, row, cols, [], xq, scales, sums);
                float actual = RowDot.Compute(type, row, cols, [], xq, scales, sums);
                KernelTestData.BitEqual(expected, actual, $"{type} cols={cols} rep={rep}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(FloatTypes))]
    public void Fast_float_row_dot_equals_reference_for_lengths_0_to_300(GgmlType type)
    {
        var rng = new Random(200 + (int)type);
        for (int cols = 0; cols <= 300; cols++)
        {
            byte[] row = KernelTestData.Row(rng, type, cols);
            float[] x = KernelTestData.Floats(rng, cols, 2f);
            KernelTestData.BitEqual(ReferenceRowDot.Compute(type, row, cols, x, [], [], []),
                                    RowDot.Compute(type, row, cols, x, [], [], []), $"{type} cols={cols}");
        }
    }

    [Theory]
    [MemberData(nameof(FloatTypes))]
    public void Float_row_dot_equals_f32_dot_of_the_converted_row(GgmlType type)
    {
        var rng = new Random(300 + (int)type);
        const int cols = 1000;
        byte[] row = KernelTestData.Row(rng, type, cols);
        float[] x = KernelTestData.Floats(rng, cols, 2f), w = new float[cols];
        Dequantize.Row(type, row, w);
        KernelTestData.BitEqual(ReferenceDot.F32(w, x), RowDot.Compute(type, row, cols, x, [], [], []), type.ToString());
    }

    [Fact]
    public void F16_row_dot_over_every_finite_half_equals_reference()
    {
        var halves = new List<ushort>();
        for (int h = 0; h < 65536; h++)
        {
            if ((h & 0x7C00) != 0x7C00) halves.Add((ushort)h);
        }

        byte[] row = new byte[2 * halves.Count];
        for (int i = 0; i < halves.Count; i++) BinaryPrimitives.WriteUInt16LittleEndian(row.AsSpan(2 * i), halves[i]);
        float[] x = KernelTestData.Floats(new Random(600), halves.Count, 1f);
        KernelTestData.BitEqual(ReferenceRowDot.Compute(GgmlType.F16, row, halves.Count, x, [], [], []),
                                RowDot.Compute(GgmlType.F16, row, halves.Count, x, [], [], []), "all finite halves");
    }

    [Theory]
    [InlineData((ushort)0x7C00)]
    [InlineData((ushort)0xFC00)]
    [InlineData((ushort)0x7E01)]
    public void F16_row_dot_propagates_infinities_and_nans_like_the_reference(ushort special)
    {
        byte[] row = new byte[2 * 40];
        BinaryPrimitives.WriteUInt16LittleEndian(row.AsSpan(2 * 5), special);
        float[] x = KernelTestData.Floats(new Random(601), 40, 1f);
        x[5] = 0.5f;
        float expected = ReferenceRowDot.Compute(GgmlType.F16, row, 40, x, [], [], []);
        float actual = RowDot.Compute(GgmlType.F16, row, 40, x, [], [], []);
        Assert.Equal(float.IsNaN(expected), float.IsNaN(actual));
        if (!float.IsNaN(expected)) KernelTestData.BitEqual(expected, actual, $"0x{special:X4}");
    }

    [Theory]
    [MemberData(nameof(QuantizedTypes))]
    public void Quantized_row_dot_is_close_to_the_dot_of_dequantized_values(GgmlType type)
    {
        var rng = new Random(400 + (int)type);
        int cols = 8 * 256;
        byte[] row = KernelTestData.Row(rng, type, cols);
        float[] x = KernelTestData.Floats(rng, cols, 2f);
        var xq = new sbyte[cols];
        var scales = new float[cols / 32];
        var sums = new int[cols / 32];
        ActivationQuantizer.Quantize(x, xq, scales, sums);
        float[] w = new float[cols], xd = new float[cols];
        Dequantize.Row(type, row, w);
        for (int i = 0; i < cols; i++) xd[i] = xq[i] * scales[i / 32];
        float expected = Dot.F32(w, xd);
        double magnitude = 0;
        for (int i = 0; i < cols; i++) magnitude += Math.Abs((double)w[i] * xd[i]);
        float actual = RowDot.Compute(type, row, cols, x, xq, scales, sums);
        Assert.InRange(Math.Abs(actual - expected), 0, 1e-2 * Math.Abs(expected) + 1e-4 * magnitude);
    }

    [Theory]
    [MemberData(nameof(QuantizedTypes))]
    public void Quantized_row_dot_equals_a_straightforward_integer_recomputation(GgmlType type)
    {
        var rng = new Random(500 + (int)type);
        int cols = 3 * 256;
        (byte[] row, sbyte[] xq, float[] scales, int[] sums) = Case(rng, type, cols);
        float expected = Straightforward(type, row, cols, xq, scales, sums);
        KernelTestData.BitEqual(expected, ReferenceRowDot.Compute(type, row, cols, [], xq, scales, sums), "reference");
        KernelTestData.BitEqual(expected, RowDot.Compute(type, row, cols, [], xq, scales, sums), "fast");
    }

    [Fact]
    public void Hostile_q8_0_weights_of_minus_128_do_not_saturate()
    {
        const int cols = 64;
        var row = new byte[2 * 34];
        for (int b = 0; b < 2; b++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(row.AsSpan(34 * b), 0x3C00); // d = 1
            row.AsSpan(34 * b + 2, 32).Fill(0x80); // q = -128
        }

        var xq = new sbyte[cols];
        Array.Fill(xq, (sbyte)-128); // hostile activation bytes too: each product is +16384
        float[] scales = [1f, 1f];
        int[] sums = [0, 0];
        // Each lane: 2 blocks * 4 * 16384 = 131072; tree over 8 lanes: 1048576.
        KernelTestData.BitEqual(1048576f, ReferenceRowDot.Compute(GgmlType.Q8_0, row, cols, [], xq, scales, sums), "reference");
        KernelTestData.BitEqual(1048576f, RowDot.Compute(GgmlType.Q8_0, row, cols, [], xq, scales, sums), "fast");
    }

    [Fact]
    public void Row_dot_rejects_columns_that_are_not_whole_blocks()
    {
        Assert.Throws<ArgumentException>(() => RowDot.Compute(GgmlType.Q4_K, new byte[144], 100, [], new sbyte[100], new float[4], new int[4]));
        Assert.Throws<NotSupportedException>(() => RowDot.Compute(GgmlType.Q5_K, new byte[176], 256, [], new sbyte[256], new float[8], new int[8]));
    }

    [Theory]
    [MemberData(nameof(QuantizedTypes))]
    public void Multi_token_row_dot_equals_row_dot_per_token_for_1_to_12_blocks_and_1_to_9_tokens(GgmlType type)
    {
        var rng = new Random(700 + (int)type);
        int blockSize = GgmlTypeInfo.BlockSize(type);
        for (int blocks = 1; blocks <= 12; blocks++)
        {
            int cols = blocks * blockSize, b32 = cols / 32;
            for (int tokens = 1; tokens <= 9; tokens++)
            {
                byte[] row = KernelTestData.Row(rng, type, cols);
                var xq = new sbyte[tokens * cols];
                var scales = new float[tokens * b32];
                var sums = new int[tokens * b32];
                for (int t = 0; t < tokens; t++)
                {
                    float[] x = KernelTestData.Floats(rng, cols, 4f);
                    ActivationQuantizer.Quantize(x, xq.AsSpan(t * cols, cols), scales.AsSpan(t * b32, b32), sums.AsSpan(t * b32, b32));
                }

                const int stride = 3;
                var y = new float[(tokens - 1) * stride + 1];
                RowDot.ComputeTokens(type, row, cols, tokens, xq, scales, sums, y, stride);
                for (int t = 0; t < tokens; t++)
                {
                    float expected = ReferenceRowDot.Compute(type, row, cols, [], xq.AsSpan(t * cols, cols), scales.AsSpan(t * b32, b32), sums.AsSpan(t * b32, b32));
                    KernelTestData.BitEqual(expected, RowDot.Compute(type, row, cols, [], xq.AsSpan(t * cols, cols), scales.AsSpan(t * b32, b32), sums.AsSpan(t * b32, b32)), $"{type} cols={cols} single t={t}");
                    KernelTestData.BitEqual(expected, y[t * stride], $"{type} cols={cols} tokens={tokens} t={t}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(QuantizedTypes))]
    [MemberData(nameof(FloatTypes))]
    public void Multi_row_dot_equals_row_dot_per_row_for_1_to_12_blocks_and_1_to_9_rows(GgmlType type)
    {
        var rng = new Random(800 + (int)type);
        int blockSize = GgmlTypeInfo.BlockSize(type) == 1 ? 32 : GgmlTypeInfo.BlockSize(type);
        bool quantized = RowDot.NeedsQuantizedActivation(type);
        for (int blocks = 1; blocks <= 12; blocks++)
        {
            int cols = blocks * blockSize, rowBytes = (int)GgmlTypeInfo.RowBytes(type, cols);
            for (int rowCount = 1; rowCount <= 9; rowCount++)
            {
                byte[] rows = KernelTestData.Row(rng, type, cols * rowCount);
                float[] x = KernelTestData.Floats(rng, cols, 4f);
                var xq = new sbyte[cols];
                var scales = new float[cols / 32];
                var sums = new int[cols / 32];
                ActivationQuantizer.Quantize(x, xq, scales, sums);
                float[] xf = quantized ? [] : x;
                var y = new float[rowCount + 1];
                y[rowCount] = 12345f;
                RowDot.ComputeRows(type, rows, rowCount, cols, xf, xq, scales, sums, y);
                for (int r = 0; r < rowCount; r++)
                {
                    ReadOnlySpan<byte> row = rows.AsSpan(r * rowBytes, rowBytes);
                    float expected = ReferenceRowDot.Compute(type, row, cols, xf, xq, scales, sums);
                    KernelTestData.BitEqual(expected, RowDot.Compute(type, row, cols, xf, xq, scales, sums), $"{type} cols={cols} single r={r}");
                    KernelTestData.BitEqual(expected, y[r], $"{type} cols={cols} rows={rowCount} r={r}");
                }

                Assert.Equal(12345f, y[rowCount]);
            }
        }
    }

    [Fact]
    public void Q4_0_eight_row_kernel_equals_reference_for_8_to_20_rows_long_rows_and_hostile_scales()
    {
        // The decode kernel does 8 rows per pass and leaves the remainder to the single-row path: 8..20 rows give one
        // or two passes plus 0..7 remainder rows. Activation bytes over the full range (-128 included), the row's f16
        // scales sometimes 0, ±0 subnormal, the largest finite, ±inf or NaN. NaN results are compared as NaN (which
        // NaN an FMA propagates may differ between the scalar and vector forms), everything else bit for bit.
        var rng = new Random(1200);
        ushort[] hostile = [0x0000, 0x8000, 0x0001, 0x83FF, 0x03FF, 0x0400, 0x7BFF, 0xFBFF, 0x7C00, 0xFC00, 0x7E00, 0x7D01];
        // 520 blocks: past the rows whose per-block start vectors the kernel precomputes on the stack (512).
        foreach (int blocks in Enumerable.Range(1, 12).Concat([31, 64, 176, 520]))
        {
            int cols = 32 * blocks, rowBytes = (int)GgmlTypeInfo.RowBytes(GgmlType.Q4_0, cols);
            for (int rowCount = 8; rowCount <= (blocks > 200 ? 9 : 20); rowCount++)
            {
                bool specials = rowCount % 3 == 0;
                byte[] rows = KernelTestData.Row(rng, GgmlType.Q4_0, cols * rowCount);
                for (int r = 0; r < rowCount; r++)
                    for (int b = 0; b < blocks; b++)
                    {
                        int roll = rng.Next(10);
                        if (roll < 2 || (specials && roll < 4))
                        {
                            ushort h = hostile[rng.Next(specials ? hostile.Length : 8)];
                            BinaryPrimitives.WriteUInt16LittleEndian(rows.AsSpan(r * rowBytes + 18 * b), h);
                        }
                    }

                var xq = new sbyte[cols];
                for (int i = 0; i < cols; i++) xq[i] = (sbyte)rng.Next(-128, 128);
                if (rowCount == 13) xq.AsSpan().Fill(-128);
                if (rowCount == 14) rows.AsSpan().Fill(0x00);   // every q = 0, d = 0: P = -8 * sum x
                float[] scales = KernelTestData.Floats(rng, blocks, 2f);
                if (rowCount == 15) scales[rng.Next(blocks)] = 0f;
                var y = new float[rowCount + 1];
                y[rowCount] = 12345f;
                RowDot.ComputeRows(GgmlType.Q4_0, rows, rowCount, cols, [], xq, scales, [], y);
                for (int r = 0; r < rowCount; r++)
                {
                    float expected = ReferenceRowDot.Compute(GgmlType.Q4_0, rows.AsSpan(r * rowBytes, rowBytes), cols, [], xq, scales, []);
                    string context = $"cols={cols} rows={rowCount} r={r}";
                    if (float.IsNaN(expected)) Assert.True(float.IsNaN(y[r]), context);
                    else KernelTestData.BitEqual(expected, y[r], context);
                }

                Assert.Equal(12345f, y[rowCount]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(FloatTypes))]
    public void Float_rows_by_tokens_equal_reference_for_lengths_0_to_300_and_1_to_9_tokens(GgmlType type)
    {
        var rng = new Random(950 + (int)type);
        for (int cols = 0; cols <= 300; cols += cols < 40 ? 1 : 13)
        {
            int tokens = 1 + cols % 9, rowCount = 1 + cols % 3, rowBytes = (int)GgmlTypeInfo.RowBytes(type, cols);
            byte[] rows = KernelTestData.Row(rng, type, cols * rowCount);
            float[] x = KernelTestData.Floats(rng, tokens * cols, 3f);
            const int pad = 2;
            var y = new float[tokens * (rowCount + pad)];
            RowDot.ComputeRowsTokensFloat(type, rows, rowCount, cols, tokens, x, y, rowCount + pad);
            for (int t = 0; t < tokens; t++)
            {
                for (int r = 0; r < rowCount; r++)
                {
                    float expected = ReferenceRowDot.Compute(type, rows.AsSpan(r * rowBytes, rowBytes), cols, x.AsSpan(t * cols, cols), [], [], []);
                    KernelTestData.BitEqual(expected, y[t * (rowCount + pad) + r], $"{type} cols={cols} tokens={tokens} r={r} t={t}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(FloatTypes))]
    public void Float_row_quads_by_tokens_equal_reference_for_lengths_0_to_300_and_1_to_13_tokens(GgmlType type)
    {
        // 4-row × 6-token and 4-row × 4-token tiles, the tokens past them, and the rows past the last group of 4.
        var rng = new Random(970 + (int)type);
        for (int cols = 0; cols <= 300; cols++)
        {
            int tokens = 1 + cols % 13, rowCount = 4 + cols % 6, rowBytes = (int)GgmlTypeInfo.RowBytes(type, cols);
            byte[] rows = KernelTestData.Row(rng, type, cols * rowCount);
            float[] x = KernelTestData.Floats(rng, tokens * cols, 3f);
            const int pad = 2;
            var y = new float[tokens * (rowCount + pad)];
            RowDot.ComputeRowsTokensFloat(type, rows, rowCount, cols, tokens, x, y, rowCount + pad);
            for (int t = 0; t < tokens; t++)
            {
                for (int r = 0; r < rowCount; r++)
                {
                    float expected = ReferenceRowDot.Compute(type, rows.AsSpan(r * rowBytes, rowBytes), cols, x.AsSpan(t * cols, cols), [], [], []);
                    KernelTestData.BitEqual(expected, y[t * (rowCount + pad) + r], $"{type} cols={cols} tokens={tokens} r={r} t={t}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(QuantizedTypes))]
    public void Multi_row_and_tile_kernels_equal_reference_for_activation_bytes_of_the_full_range(GgmlType type)
    {
        // The VNNI kernels feed weights as unsigned bytes and correct with the activation's group sums: every
        // activation byte (-128 included, which the quantizer never makes) and every weight byte must stay exact.
        var rng = new Random(900 + (int)type);
        int blockSize = GgmlTypeInfo.BlockSize(type);
        foreach (int blocks in new[] { 1, 3, 8, 9 })
        {
            int cols = blocks * blockSize, b32 = cols / 32, rowBytes = (int)GgmlTypeInfo.RowBytes(type, cols);
            const int rowCount = 9, tokens = 14; // 4-row tiles of 8 and 4 tokens, 2-row tiles, and the rest one by one
            byte[] rows = KernelTestData.Row(rng, type, cols * rowCount);
            var xq = new sbyte[tokens * cols];
            for (int i = 0; i < xq.Length; i++) xq[i] = (sbyte)rng.Next(-128, 128);
            if (blocks == 3) xq.AsSpan().Fill(-128);
            float[] scales = KernelTestData.Floats(rng, tokens * b32, 0.05f);
            var sums = new int[tokens * b32];
            for (int i = 0; i < sums.Length; i++)
            {
                for (int k = 0; k < 32; k++) sums[i] += xq[32 * i + k];
            }

            var y = new float[tokens * rowCount];
            RowDot.ComputeRowsTokens(type, rows, rowCount, cols, tokens, xq, scales, sums, y, rowCount);
            for (int t = 0; t < tokens; t++)
            {
                var one = new float[rowCount];
                ReadOnlySpan<sbyte> xt = xq.AsSpan(t * cols, cols);
                ReadOnlySpan<float> st = scales.AsSpan(t * b32, b32);
                ReadOnlySpan<int> mt = sums.AsSpan(t * b32, b32);
                RowDot.ComputeRows(type, rows, rowCount, cols, [], xt, st, mt, one);
                for (int r = 0; r < rowCount; r++)
                {
                    float expected = ReferenceRowDot.Compute(type, rows.AsSpan(r * rowBytes, rowBytes), cols, [], xt, st, mt);
                    KernelTestData.BitEqual(expected, one[r], $"{type} cols={cols} rows r={r} t={t}");
                    KernelTestData.BitEqual(expected, y[t * rowCount + r], $"{type} cols={cols} tile r={r} t={t}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(QuantizedTypes))]
    public void Rows_by_tokens_row_dot_equals_row_dot_per_row_and_token(GgmlType type)
    {
        var rng = new Random(900 + (int)type);
        int blockSize = GgmlTypeInfo.BlockSize(type);
        foreach (int blocks in new[] { 1, 2, 3, 5, 8, 12 })
        {
            int cols = blocks * blockSize;
            foreach ((int rowCount, int tokens) in new[] { (1, 1), (2, 4), (3, 5), (4, 8), (5, 9), (2, 3), (7, 6), (6, 1) })
            {
                RowsTokensEqualReference(rng, type, cols, rowCount, tokens, rowCount + 2);
            }
        }
    }

    [Theory]
    [MemberData(nameof(QuantizedTypes))]
    public void Four_row_tiles_at_every_token_offset_equal_the_reference_for_lengths_up_to_300(GgmlType type)
    {
        // (K-quants: 1 to 3 super-blocks.) 16 to 25 tokens put 4 × 8 tiles at token 0 and 8 (and 16), a 4 × 4 tile after them and a tail; the tiles
        // reach token k of a block at base + k · stride (see Tile4x8Vnni512), so every offset is checked.
        var rng = new Random(4200 + (int)type);
        int blockSize = GgmlTypeInfo.BlockSize(type);
        for (int cols = blockSize; cols <= Math.Max(300, 3 * blockSize); cols += blockSize)
        {
            foreach ((int rowCount, int tokens) in new[] { (4, 16), (5, 20), (8, 25), (11, 17), (4, 12) })
            {
                RowsTokensEqualReference(rng, type, cols, rowCount, tokens, rowCount + 3);
            }
        }
    }

    /// <summary>Random rows and quantized tokens; <see cref="RowDot.ComputeRowsTokens"/> with output stride
    /// <paramref name="stride"/> equals <see cref="ReferenceRowDot.Compute"/> per (row, token), bit for bit.</summary>
    private static void RowsTokensEqualReference(Random rng, GgmlType type, int cols, int rowCount, int tokens, int stride)
    {
        int b32 = cols / 32, rowBytes = (int)GgmlTypeInfo.RowBytes(type, cols);
        byte[] rows = KernelTestData.Row(rng, type, cols * rowCount);
        var xq = new sbyte[tokens * cols];
        var scales = new float[tokens * b32];
        var sums = new int[tokens * b32];
        for (int t = 0; t < tokens; t++)
        {
            float[] x = KernelTestData.Floats(rng, cols, 4f);
            ActivationQuantizer.Quantize(x, xq.AsSpan(t * cols, cols), scales.AsSpan(t * b32, b32), sums.AsSpan(t * b32, b32));
        }

        var y = new float[(tokens - 1) * stride + rowCount];
        RowDot.ComputeRowsTokens(type, rows, rowCount, cols, tokens, xq, scales, sums, y, stride);
        for (int t = 0; t < tokens; t++)
        {
            for (int r = 0; r < rowCount; r++)
            {
                float expected = ReferenceRowDot.Compute(type, rows.AsSpan(r * rowBytes, rowBytes), cols, [], xq.AsSpan(t * cols, cols),
                                                         scales.AsSpan(t * b32, b32), sums.AsSpan(t * b32, b32));
                KernelTestData.BitEqual(expected, y[t * stride + r], $"{type} cols={cols} rows={rowCount} tokens={tokens} r={r} t={t}");
            }
        }
    }

    [Fact]
    public void Multi_token_row_dot_rejects_float_types_and_short_inputs()
    {
        Assert.Throws<NotSupportedException>(() => RowDot.ComputeTokens(GgmlType.F32, new byte[128], 32, 1, new sbyte[32], new float[1], new int[1], new float[1], 1));
        Assert.Throws<ArgumentException>(() => RowDot.ComputeTokens(GgmlType.Q8_0, new byte[34], 32, 2, new sbyte[32], new float[2], new int[2], new float[2], 1));
        Assert.Throws<ArgumentException>(() => RowDot.ComputeTokens(GgmlType.Q8_0, new byte[34], 32, 2, new sbyte[64], new float[2], new int[2], new float[1], 1));
    }

    [Fact]
    public void Needs_quantized_activation_for_the_four_quantized_types_only()
    {
        Assert.True(RowDot.NeedsQuantizedActivation(GgmlType.Q8_0));
        Assert.True(RowDot.NeedsQuantizedActivation(GgmlType.Q4_0));
        Assert.True(RowDot.NeedsQuantizedActivation(GgmlType.Q4_K));
        Assert.True(RowDot.NeedsQuantizedActivation(GgmlType.Q6_K));
        Assert.False(RowDot.NeedsQuantizedActivation(GgmlType.F32));
        Assert.False(RowDot.NeedsQuantizedActivation(GgmlType.F16));
        Assert.False(RowDot.NeedsQuantizedActivation(GgmlType.BF16));
    }

    private static (byte[] Row, sbyte[] Xq, float[] Scales, int[] Sums) Case(Random rng, GgmlType type, int cols)
    {
        byte[] row = KernelTestData.Row(rng, type, cols);
        float[] x = KernelTestData.Floats(rng, cols, 4f);
        var xq = new sbyte[cols];
        var scales = new float[cols / 32];
        var sums = new int[cols / 32];
        ActivationQuantizer.Quantize(x, xq, scales, sums);
        return (row, xq, scales, sums);
    }

    /// <summary>The spec written out again independently: per element integer weight and f32 scale, ggml's loops.</summary>
    private static float Straightforward(GgmlType type, byte[] row, int cols, sbyte[] xq, float[] xScales, int[] xSums)
    {
        var wq = new int[cols];
        var dsc = new float[cols];   // per-element weight scale (d, d*sc)
        var dmin = new float[cols];  // per-element Q4_K min term (dmin*m)
        for (int e = 0; e < cols; e++)
        {
            switch (type)
            {
                case GgmlType.Q8_0:
                    wq[e] = (sbyte)row[34 * (e / 32) + 2 + e % 32];
                    dsc[e] = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(row.AsSpan(34 * (e / 32))));
                    break;
                case GgmlType.Q4_0:
                    {
                        byte packed = row[18 * (e / 32) + 2 + e % 16];
                        wq[e] = (e % 32 < 16 ? packed & 0xF : packed >> 4) - 8;
                        dsc[e] = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(row.AsSpan(18 * (e / 32))));
                        break;
                    }
                case GgmlType.Q4_K:
                    {
                        int at = 144 * (e / 256), j = e % 256 / 32, l = e % 32;
                        byte[] s = row[(at + 4)..(at + 16)];
                        int sc = j < 4 ? s[j] & 63 : (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
                        int m = j < 4 ? s[j + 4] & 63 : (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
                        byte packed = row[at + 16 + 32 * (j / 2) + l];
                        wq[e] = j % 2 == 0 ? packed & 0xF : packed >> 4;
                        float d = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(row.AsSpan(at)));
                        float dm = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(row.AsSpan(at + 2)));
                        dsc[e] = d * sc;
                        dmin[e] = dm * m;
                        break;
                    }
                case GgmlType.Q6_K:
                    {
                        int at = 210 * (e / 256), i = e % 256, n = i / 128, t = i % 128 / 32, l = i % 32;
                        int ql = row[at + 64 * n + l + (t % 2 == 1 ? 32 : 0)];
                        int qh = row[at + 128 + 32 * n + l];
                        int low = t < 2 ? ql & 0xF : ql >> 4;
                        wq[e] = (low | (((qh >> (2 * t)) & 3) << 4)) - 32;
                        float d = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(row.AsSpan(at + 208)));
                        dsc[e] = d * (sbyte)row[at + 192 + i / 16];
                        break;
                    }
            }
        }

        if (type == GgmlType.Q4_0)
        {
            // Q4_0: one exact integer sum per block, one f32 accumulator.
            float one = 0f;
            for (int b = 0; b < cols / 32; b++)
            {
                int p = 0;
                for (int k = 32 * b; k < 32 * b + 32; k++) p += wq[k] * xq[k];
                one = MathF.FusedMultiplyAdd(dsc[32 * b] * xScales[b], p, one);
            }

            return one;
        }

        float[] acc = new float[8];
        float mins = 0f;
        for (int b = 0; b < cols / 32; b++)
        {
            for (int j = 0; j < 8; j++)
            {
                int p = 0;
                for (int k = 32 * b + 4 * j; k < 32 * b + 4 * j + 4; k++) p += wq[k] * xq[k];
                acc[j] = MathF.FusedMultiplyAdd(dsc[32 * b + 4 * j] * xScales[b], p, acc[j]);
            }

            if (type == GgmlType.Q4_K) mins = MathF.FusedMultiplyAdd(dmin[32 * b] * xScales[b], xSums[b], mins);
        }

        float t4 = 0;
        float[] l4 = [acc[0] + acc[4], acc[1] + acc[5], acc[2] + acc[6], acc[3] + acc[7]];
        float[] l2 = [l4[0] + l4[2], l4[1] + l4[3]];
        t4 = l2[0] + l2[1];
        return t4 - mins;
    }
}
