using Cairn.Engine.Kernels;
using Cairn.Engine.Kernels.Reference;
using Cairn.Engine.Tests.TestSupport;

namespace Cairn.Engine.Tests.Kernels;

public class DotTests
{
    [Fact]
    public void Fast_dot_equals_reference_bit_for_bit_for_lengths_0_to_300()
    {
        var rng = new Random(1234);
        for (int n = 0; n <= 300; n++)
        {
            float[] a = KernelTestData.Floats(rng, n, 3f), b = KernelTestData.Floats(rng, n, 3f);
            KernelTestData.BitEqual(ReferenceDot.F32(a, b), Dot.F32(a, b), $"n={n}");
        }
    }

    [Fact]
    public void Reference_dot_is_close_to_a_double_precision_sum()
    {
        var rng = new Random(99);
        foreach (int n in new[] { 1, 15, 16, 17, 255, 4096 })
        {
            float[] a = KernelTestData.Floats(rng, n, 1f), b = KernelTestData.Floats(rng, n, 1f);
            double exact = 0, magnitude = 0;
            for (int i = 0; i < n; i++)
            {
                exact += (double)a[i] * b[i];
                magnitude += Math.Abs((double)a[i] * b[i]);
            }

            Assert.InRange(Math.Abs(ReferenceDot.F32(a, b) - exact), 0, 1e-6 * magnitude + 1e-30);
        }
    }

    [Fact]
    public void Dot_follows_the_16_lane_order_and_pairwise_tree()
    {
        // Element 0 = 1e8 and element 16 = 1 share lane 0 (1e8 + 1 rounds to 1e8); the tree then adds 1, 2, 4 and 8
        // to lane 0: 1e8 + 1 → 1e8, 1e8 + 2 → 1e8, 1e8 + 4 → 1e8 (tie to even), 1e8 + 8 = 100000008.
        float[] a = new float[17];
        float[] b = new float[17];
        Array.Fill(a, 1f);
        Array.Fill(b, 1f);
        a[0] = 1e8f;
        KernelTestData.BitEqual(100000008f, ReferenceDot.F32(a, b), "reference");
        KernelTestData.BitEqual(100000008f, Dot.F32(a, b), "fast");
    }

    [Fact]
    public void Tail_lanes_that_receive_nothing_keep_negative_zero()
    {
        // Products of -0 leave lanes at +0 (FMA(-0, 1, +0) = +0); the result must be +0 on every path.
        float[] a = [-0f, -0f, -0f];
        float[] b = [1f, 1f, 1f];
        KernelTestData.BitEqual(ReferenceDot.F32(a, b), Dot.F32(a, b), "signed zeros");
    }

    [Fact]
    public void Mismatched_lengths_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => Dot.F32(new float[3], new float[4]));
    }
}
