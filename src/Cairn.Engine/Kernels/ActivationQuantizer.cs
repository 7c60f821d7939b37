using System.Runtime.CompilerServices;
namespace Cairn.Engine.Kernels;

/// <summary>
/// Q8 quantization of an activation vector for the quantized weight kernels (DESIGN.md §3 rule 3). Per block of 32:
/// amax = max |x| (MathF.Max over MathF.Abs; order-free); d = amax / 127; id = d != 0 ? 1 / d : 0;
/// q = RoundToEven(x * id) clamped to [-127, 127] (a NaN becomes 0); scales[b] = d; sums[b] = Σ q.
/// One implementation for every machine: it is O(n) per input vector, small next to the O(n·rows) dots it feeds.
/// </summary>
public static class ActivationQuantizer
{
    public const int BlockSize = 32;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Quantize(ReadOnlySpan<float> x, Span<sbyte> q, Span<float> scales, Span<int> sums)
    {
        if (x.Length % BlockSize != 0) KernelGuard.ThrowMultipleOf32(nameof(x), x.Length);
        int blocks = x.Length / BlockSize;
        KernelGuard.SameLength(q.Length, x.Length, nameof(q), nameof(x));
        KernelGuard.SameLength(scales.Length, blocks, nameof(scales), "x/32");
        KernelGuard.SameLength(sums.Length, blocks, nameof(sums), "x/32");
        for (int b = 0; b < blocks; b++)
        {
            ReadOnlySpan<float> xb = x.Slice(b * BlockSize, BlockSize);
            Span<sbyte> qb = q.Slice(b * BlockSize, BlockSize);
            float amax = 0f;
            for (int i = 0; i < BlockSize; i++) amax = MathF.Max(amax, MathF.Abs(xb[i]));
            float d = amax / 127f;
            float id = d != 0f ? 1f / d : 0f;
            int sum = 0;
            for (int i = 0; i < BlockSize; i++)
            {
                float r = MathF.Round(xb[i] * id, MidpointRounding.ToEven);
                int v = float.IsNaN(r) ? 0 : (int)Math.Clamp(r, -127f, 127f);
                qb[i] = (sbyte)v;
                sum += v;
            }

            scales[b] = d;
            sums[b] = sum;
        }
    }
}
