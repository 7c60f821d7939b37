namespace Cairn.Engine.Kernels.Reference;

/// <summary>
/// The spec of <see cref="ActivationQuantizer.Quantize"/>, one element at a time. Per block of 32:
/// amax = max |x| (MathF.Max over MathF.Abs); d = amax / 127; id = d != 0 ? 1 / d : 0;
/// q = RoundToEven(x * id) clamped to [-127, 127] (a NaN becomes 0); scales[b] = d; sums[b] = Σ q.
/// </summary>
public static class ReferenceActivationQuantizer
{
    public static void Quantize(ReadOnlySpan<float> x, Span<sbyte> q, Span<float> scales, Span<int> sums)
    {
        if (x.Length % ActivationQuantizer.BlockSize != 0) KernelGuard.ThrowMultipleOf32(nameof(x), x.Length);
        int blocks = x.Length / ActivationQuantizer.BlockSize;
        KernelGuard.SameLength(q.Length, x.Length, nameof(q), nameof(x));
        KernelGuard.SameLength(scales.Length, blocks, nameof(scales), "x/32");
        KernelGuard.SameLength(sums.Length, blocks, nameof(sums), "x/32");
        for (int b = 0; b < blocks; b++) Block(x.Slice(b * 32, 32), q.Slice(b * 32, 32), out scales[b], out sums[b]);
    }

    /// <summary>One block of 32 (also the fast kernel's path for blocks that hold a NaN).</summary>
    public static void Block(ReadOnlySpan<float> xb, Span<sbyte> qb, out float scale, out int sum)
    {
        float amax = 0f;
        for (int i = 0; i < 32; i++) amax = MathF.Max(amax, MathF.Abs(xb[i]));
        float d = amax / 127f;
        float id = d != 0f ? 1f / d : 0f;
        sum = 0;
        for (int i = 0; i < 32; i++)
        {
            float r = MathF.Round(xb[i] * id, MidpointRounding.ToEven);
            int v = float.IsNaN(r) ? 0 : (int)Math.Clamp(r, -127f, 127f);
            qb[i] = (sbyte)v;
            sum += v;
        }

        scale = d;
    }
}
