using Cairn.Engine.Kernels;

namespace Cairn.Engine.Tests.Kernels;

public class ActivationQuantizerTests
{
    [Fact]
    public void Quantize_scales_by_block_maximum_and_rounds_half_to_even()
    {
        var x = new float[32];
        x[0] = 127f;
        x[1] = -127f;
        x[2] = 2.5f;   // ties to even: 2
        x[3] = 3.5f;   // ties to even: 4
        x[4] = -0.5f;  // ties to even: -0
        x[5] = 10.2f;
        var q = new sbyte[32];
        var scales = new float[1];
        var sums = new int[1];
        ActivationQuantizer.Quantize(x, q, scales, sums);
        Assert.Equal(1f, scales[0]);
        Assert.Equal(new sbyte[] { 127, -127, 2, 4, 0, 10 }, q[..6]);
        Assert.Equal(127 - 127 + 2 + 4 + 0 + 10, sums[0]);
    }

    [Fact]
    public void A_zero_block_has_zero_scale_and_quants()
    {
        var x = new float[64];
        x[40] = 1f;
        var q = new sbyte[64];
        var scales = new float[2];
        var sums = new int[2];
        ActivationQuantizer.Quantize(x, q, scales, sums);
        Assert.Equal(0f, scales[0]);
        Assert.Equal(1f / 127f, scales[1]);
        Assert.Equal(127, q[40]);
        Assert.Equal([0, 127], sums);
    }

    [Fact]
    public void Quants_stay_within_minus_127_to_127_and_nan_becomes_zero()
    {
        var rng = new Random(5);
        var x = new float[32 * 20];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1) * MathF.Pow(10, rng.Next(-30, 30));
        x[3] = float.NaN;
        var q = new sbyte[x.Length];
        ActivationQuantizer.Quantize(x, q, new float[20], new int[20]);
        Assert.All(q, v => Assert.InRange(v, -127, 127));
    }

    [Fact]
    public void Lengths_that_are_not_whole_blocks_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => ActivationQuantizer.Quantize(new float[33], new sbyte[33], new float[1], new int[1]));
    }
}
