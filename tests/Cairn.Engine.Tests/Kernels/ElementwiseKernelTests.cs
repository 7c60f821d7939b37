using Cairn.Engine.Kernels;
using Cairn.Engine.Kernels.Reference;
using Cairn.Engine.Tests.TestSupport;

namespace Cairn.Engine.Tests.Kernels;

public class ElementwiseKernelTests
{
    [Fact]
    public void Fast_rmsnorm_equals_reference_for_lengths_0_to_300()
    {
        var rng = new Random(7);
        for (int n = 0; n <= 300; n++)
        {
            float[] x = KernelTestData.Floats(rng, n, 5f), w = KernelTestData.Floats(rng, n, 1f);
            float[] expected = new float[n], actual = new float[n];
            ReferenceRmsNorm.Apply(x, w, 1e-6f, expected);
            RmsNorm.Apply(x, w, 1e-6f, actual);
            KernelTestData.BitEqual(expected, actual, $"n={n}");
        }
    }

    [Fact]
    public void Rmsnorm_normalises_to_unit_root_mean_square()
    {
        float[] x = [3f, -4f, 0f, 5f];
        float[] y = new float[4];
        RmsNorm.Apply(x, [1f, 1f, 1f, 1f], 0f, y);
        double ms = y.Sum(v => (double)v * v) / 4;
        Assert.Equal(1.0, ms, 5);
    }

    [Fact]
    public void Fast_softmax_equals_reference_for_lengths_0_to_300()
    {
        var rng = new Random(8);
        for (int n = 0; n <= 300; n++)
        {
            float[] expected = KernelTestData.Floats(rng, n, 30f);
            float[] actual = (float[])expected.Clone();
            ReferenceSoftmax.InPlace(expected);
            Softmax.InPlace(actual);
            KernelTestData.BitEqual(expected, actual, $"n={n}");
        }
    }

    [Fact]
    public void Softmax_sums_to_one_and_is_close_to_the_double_formula()
    {
        float[] x = [1f, 2f, 3f, -50f, 0.5f];
        float[] y = (float[])x.Clone();
        Softmax.InPlace(y);
        double max = x.Max(), sum = x.Sum(v => Math.Exp(v - max));
        for (int i = 0; i < x.Length; i++) Assert.Equal(Math.Exp(x[i] - max) / sum, y[i], 6);
    }

    [Fact]
    public void Fast_axpy_equals_reference_for_lengths_0_to_300()
    {
        var rng = new Random(9);
        for (int n = 0; n <= 300; n++)
        {
            float a = (float)rng.NextDouble() - 0.5f;
            float[] x = KernelTestData.Floats(rng, n, 2f);
            float[] expected = KernelTestData.Floats(rng, n, 2f);
            float[] actual = (float[])expected.Clone();
            ReferenceAxpy.Apply(a, x, expected);
            Axpy.Apply(a, x, actual);
            KernelTestData.BitEqual(expected, actual, $"n={n}");
        }
    }
}
