using Cairn.Engine.Kernels;
using Cairn.Engine.Kernels.Reference;

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
    [Fact]
    public void Quantize_equals_the_reference_bit_for_bit_on_random_and_special_blocks()
    {
        var rng = new Random(17);
        float[] specials =
        [
            0f, -0f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, -float.NaN, float.Epsilon, -float.Epsilon,
            float.MaxValue, float.MinValue, 1e-40f, 0.5f, -0.5f, 1.5f, 2.5f, -2.5f, 126.5f, -126.5f, 127f, 128f,
        ];
        for (int blocks = 0; blocks <= 40; blocks++)
        {
            int n = 32 * blocks;
            var x = new float[n];
            for (int b = 0; b < blocks; b++)
            {
                int kind = b % 8;
                float scale = MathF.Pow(2, rng.Next(-140, 120));
                for (int i = 0; i < 32; i++)
                {
                    float v = (float)(rng.NextDouble() * 2 - 1) * scale;
                    x[32 * b + i] = kind switch
                    {
                        // exact ties: amax 127 · 2^k gives d = 2^k, and (m + 0.5) · 2^k quantizes to a tie
                        1 => (rng.Next(-127, 127) + 0.5f) * MathF.ScaleB(1f, (b % 5) - 2),
                        2 => specials[rng.Next(specials.Length)],
                        3 => i == 5 ? float.NaN : v,
                        4 => i == 31 ? float.PositiveInfinity : v,
                        5 => 0f,
                        6 => i == 0 ? -0f : (i % 3 == 0 ? float.Epsilon * rng.Next(1, 100) : -float.Epsilon * rng.Next(1, 100)),
                        _ => v,
                    };
                }
                if (kind == 1) x[32 * b + 7] = 127f * MathF.ScaleB(1f, (b % 5) - 2);
            }

            var q = new sbyte[n]; var scales = new float[blocks]; var sums = new int[blocks];
            var rq = new sbyte[n]; var rscales = new float[blocks]; var rsums = new int[blocks];
            ActivationQuantizer.Quantize(x, q, scales, sums);
            ReferenceActivationQuantizer.Quantize(x, rq, rscales, rsums);
            Assert.Equal(rq, q);
            Assert.Equal(rsums, sums);
            Assert.Equal(rscales.Select(BitConverter.SingleToInt32Bits), scales.Select(BitConverter.SingleToInt32Bits));
        }
    }

    [Fact]
    public void Ties_round_to_even_in_every_lane()
    {
        var x = new float[64];
        for (int i = 0; i < 64; i++) x[i] = (i % 2 == 0 ? 1 : -1) * (i / 2 + 0.5f);   // 0.5, -1.5, 2.5, … ; amax 31.5 in block 0
        x[0] = 127f;
        x[32] = -127f;
        var q = new sbyte[64]; var scales = new float[2]; var sums = new int[2];
        ActivationQuantizer.Quantize(x, q, scales, sums);
        Assert.Equal([1f, 1f], scales);
        for (int i = 1; i < 64; i++)
        {
            if (i == 32) continue;
            Assert.Equal((sbyte)MathF.Round(x[i], MidpointRounding.ToEven), q[i]);
        }
    }
}
