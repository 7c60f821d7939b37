using Cairn.Engine.Generation;
using Cairn.Engine.Inference;
using Cairn.Engine.Kernels;
using Cairn.Engine.Models;
using Cairn.Engine.Sampling;
using Cairn.Engine.Tensors;
using Cairn.Engine.Tests.TestSupport;

namespace Cairn.Engine.Tests.Kernels;

public sealed class WeightQuantizerTests
{
    [Fact]
    public void Q8_0_and_Q4_0_blocks_are_ggmls()
    {
        var x = new float[32];
        for (int i = 0; i < 32; i++) x[i] = i - 16; // amax 16 at i = 0 (value −16)
        var q8 = new byte[34];
        WeightQuantizer.Row(GgmlType.Q8_0, x, q8);
        Assert.Equal(BitConverter.HalfToUInt16Bits((Half)(16f / 127f)), BitConverter.ToUInt16(q8));
        Assert.Equal(-127, (sbyte)q8[2]);
        Assert.Equal(0, (sbyte)q8[2 + 16]);
        Assert.Equal(119, (sbyte)q8[2 + 31]); // round(15 · 127/16) = round(119.06)

        var q4 = new byte[18];
        WeightQuantizer.Row(GgmlType.Q4_0, x, q4);
        Assert.Equal(BitConverter.HalfToUInt16Bits((Half)2f), BitConverter.ToUInt16(q4)); // d = −16 / −8
        Assert.Equal(0, q4[2] & 0xF);      // −16 / 2 + 8.5 → 0
        Assert.Equal(8, q4[2] >> 4);       // x[16] = 0 → 8
        Assert.Equal(15, q4[2 + 15] >> 4); // x[31] = 15 → 7.5 + 8.5 = 16, clamped to 15
    }

    [Theory]
    [InlineData(GgmlType.Q8_0, 0.005f)]
    [InlineData(GgmlType.Q4_0, 0.08f)]
    [InlineData(GgmlType.F16, 0.0005f)]
    public void A_row_round_trips_within_the_types_precision(GgmlType type, float tolerance)
    {
        var rng = new Xoshiro256StarStar(3);
        var x = new float[256];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextUnitFloat() - 0.5f;
        var bytes = new byte[GgmlTypeInfo.RowBytes(type, x.Length)];
        WeightQuantizer.Row(type, x, bytes);
        var y = new float[x.Length];
        Dequantize.Row(type, bytes, y);
        for (int i = 0; i < x.Length; i++) Assert.True(MathF.Abs(x[i] - y[i]) <= tolerance, $"{type} element {i}: {x[i]} → {y[i]}");
    }

    [Fact]
    public void Unsupported_targets_and_ragged_rows_are_refused()
    {
        Assert.Throws<NotSupportedException>(() => WeightQuantizer.Row(GgmlType.Q4_K, new float[256], new byte[144]));
        Assert.Throws<ArgumentException>(() => WeightQuantizer.Row(GgmlType.Q8_0, new float[33], new byte[68]));
    }

    [Theory]
    [InlineData(GgmlType.Q8_0, false)]
    [InlineData(GgmlType.F32, true)]
    public void A_requantized_model_computes_with_the_cheaper_type_and_another_result(GgmlType source, bool tied)
    {
        using var model = Model.Load(SyntheticModels.Path(source, tied: tied));
        using var cheap = ModelRequantizer.Requantize(model, GgmlType.Q4_0);
        Assert.All(cheap.Layers, l => Assert.Equal(GgmlType.Q4_0, l.Down.Type));
        Assert.Equal(GgmlType.Q4_0, cheap.Output.Type);
        Assert.Equal(tied, ReferenceEquals(cheap.Output, cheap.TokenEmbedding));
        var options = new GenerationOptions { MaxTokens = 6, Commitment = true, StopAtEndOfGeneration = false, Sampling = SamplingOptions.Greedy };
        var honest = new Generator(new Transformer(model)).Generate([1, 50, 60], options);
        var cheater = new Generator(new Transformer(cheap)).Generate([1, 50, 60], options);
        Assert.NotEqual(honest.OutputCommitment, cheater.OutputCommitment);
        // Requantizing is itself deterministic: two copies give the same bits.
        using var again = ModelRequantizer.Requantize(model, GgmlType.Q4_0);
        Assert.Equal(cheater.OutputCommitment, new Generator(new Transformer(again)).Generate([1, 50, 60], options).OutputCommitment);
    }
}
