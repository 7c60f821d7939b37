using Cairn.Engine.Kernels;
using Cairn.Engine.Kernels.Reference;
using Cairn.Engine.Tests.TestSupport;

namespace Cairn.Engine.Tests.Kernels;

public class DetMathTests
{
    private static readonly float[] Specials =
    [
        0f, -0f, 1f, -1f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, 88.72f, 88.7201f, 88.71f,
        -87.33f, -87.3301f, -87.32f, 1e-30f, -1e-30f, float.Epsilon, 0.34657359f, -0.34657359f, 100f, -100f,
    ];

    [Fact]
    public void Vector_exp_equals_scalar_exp_for_lengths_0_to_300_and_special_values()
    {
        var rng = new Random(11);
        for (int n = 0; n <= 300; n++)
        {
            float[] x = KernelTestData.Floats(rng, n, 100f);
            for (int i = 0; i < Math.Min(n, Specials.Length); i++) x[i * n / Specials.Length] = Specials[i];
            float[] expected = new float[n], actual = new float[n];
            ReferenceDetMath.Exp(x, expected);
            DetMath.Exp(x, actual);
            KernelTestData.BitEqual(expected, actual, $"n={n}");
            for (int i = 0; i < n; i++) KernelTestData.BitEqual(expected[i], DetMath.Exp(x[i]), $"scalar x={x[i]}");
        }
    }

    [Fact]
    public void Exp_is_within_2_ulp_of_MathF_Exp_on_a_sweep_of_minus_87_to_88()
    {
        int worst = 0;
        float worstX = 0;
        var x = new float[175_001];
        for (int i = 0; i < x.Length; i++) x[i] = -87f + i * 0.001f;
        var y = new float[x.Length];
        DetMath.Exp(x, y);
        for (int i = 0; i < x.Length; i++)
        {
            float expected = (float)Math.Exp(x[i]);
            int ulps = Math.Abs(BitConverter.SingleToInt32Bits(expected) - BitConverter.SingleToInt32Bits(y[i]));
            if (ulps > worst) (worst, worstX) = (ulps, x[i]);
        }

        Assert.True(worst <= 2, $"{worst} ulp at x = {worstX:R}");
    }

    [Fact]
    public void Exp_handles_its_clamps_and_nan()
    {
        Assert.Equal(float.PositiveInfinity, DetMath.Exp(88.73f));
        Assert.Equal(0f, DetMath.Exp(-87.34f));
        Assert.True(float.IsNormal(DetMath.Exp(-87.33f)));
        Assert.True(float.IsFinite(DetMath.Exp(88.72f)));
        Assert.True(float.IsNaN(DetMath.Exp(float.NaN)));
        Assert.Equal(1f, DetMath.Exp(0f));
        Assert.Equal(1f, DetMath.Exp(-0f));
    }

    [Fact]
    public void Vector_silu_mul_equals_scalar_for_lengths_0_to_300()
    {
        var rng = new Random(12);
        for (int n = 0; n <= 300; n++)
        {
            float[] gate = KernelTestData.Floats(rng, n, 20f), up = KernelTestData.Floats(rng, n, 3f);
            float[] expected = (float[])gate.Clone();
            ReferenceDetMath.SiluMul(expected, up);
            DetMath.SiluMul(gate, up);
            KernelTestData.BitEqual(expected, gate, $"n={n}");
        }
    }

    [Fact]
    public void Silu_matches_its_definition()
    {
        foreach (float x in new[] { -10f, -1f, 0f, 0.5f, 3f, 20f })
        {
            Assert.Equal(x / (1 + Math.Exp(-x)), DetMath.Silu(x), 5);
        }
    }

    [Fact]
    public void Double_sin_and_cos_match_the_platform_within_1e_15_for_rope_angles()
    {
        var rng = new Random(13);
        for (int i = 0; i < 20_000; i++)
        {
            double x = i < 10_000 ? (rng.NextDouble() * 2 - 1) * 10 : rng.NextDouble() * 1e6;
            Assert.InRange(Math.Abs(DetMath.Sin(x) - Math.Sin(x)), 0, 1e-15 * Math.Max(1, Math.Abs(x) / 1e6 * 4));
            Assert.InRange(Math.Abs(DetMath.Cos(x) - Math.Cos(x)), 0, 1e-15 * Math.Max(1, Math.Abs(x) / 1e6 * 4));
        }

        Assert.Equal(0.0, DetMath.Sin(0.0));
        Assert.Equal(1.0, DetMath.Cos(0.0));
        Assert.True(double.IsNaN(DetMath.Sin(double.PositiveInfinity)));
    }

    [Fact]
    public void Double_exp_and_log_match_the_platform_within_1e_15_relative()
    {
        var rng = new Random(14);
        for (int i = 0; i < 20_000; i++)
        {
            double x = (rng.NextDouble() * 2 - 1) * 700;
            double e = Math.Exp(x);
            Assert.InRange(Math.Abs(DetMath.Exp(x) - e), 0, 1e-15 * e);
            double y = Math.Exp((rng.NextDouble() * 2 - 1) * 700);
            double l = Math.Log(y);
            Assert.InRange(Math.Abs(DetMath.Log(y) - l), 0, 1e-15 * Math.Max(1, Math.Abs(l)));
        }

        Assert.Equal(1.0, DetMath.Exp(0.0));
        Assert.Equal(0.0, DetMath.Log(1.0));
        Assert.Equal(double.NegativeInfinity, DetMath.Log(0.0));
        Assert.True(double.IsNaN(DetMath.Log(-1.0)));
        Assert.InRange(Math.Abs(DetMath.Log(double.Epsilon) - Math.Log(double.Epsilon)), 0, 1e-12);
    }

    [Fact]
    public void Rope_frequencies_from_exp_and_log_are_accurate()
    {
        const double theta = 10000.0;
        for (int i = 0; i < 64; i++)
        {
            double expected = Math.Pow(theta, -2.0 * i / 128);
            double actual = DetMath.Exp(-2.0 * i / 128 * DetMath.Log(theta));
            Assert.InRange(Math.Abs(actual - expected), 0, 2e-15 * expected);
        }
    }
}
