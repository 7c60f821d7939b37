using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Cairn.Engine.Kernels.Reference;

namespace Cairn.Engine.Kernels;

/// <summary>
/// Q8 quantization of an activation vector for the quantized weight kernels (DESIGN.md §3 rule 3). Per block of 32:
/// amax = max |x| (MathF.Max over MathF.Abs; order-free); d = amax / 127; id = d != 0 ? 1 / d : 0;
/// q = RoundToEven(x * id) clamped to [-127, 127] (a NaN becomes 0); scales[b] = d; sums[b] = Σ q.
/// <see cref="ReferenceActivationQuantizer"/> is the spec. With 256-bit vectors each block without a NaN takes the same
/// operations 8 lanes at a time: the maximum of non-NaN magnitudes does not depend on the order, each x · id is one
/// f32 product, <c>Vector256.Round</c> rounds half to even, and a product that is NaN (∞ · 0) becomes 0 before the
/// clamp, as in the reference. A block holding a NaN input goes to the reference's block (its amax is NaN there).
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
        if (!KernelOptions.UseVector256)
        {
            for (int b = 0; b < blocks; b++)
                ReferenceActivationQuantizer.Block(x.Slice(b * BlockSize, BlockSize), q.Slice(b * BlockSize, BlockSize), out scales[b], out sums[b]);
            return;
        }

        ref float rx = ref MemoryMarshal.GetReference(x);
        ref sbyte rq = ref MemoryMarshal.GetReference(q);
        for (int b = 0; b < blocks; b++)
        {
            nuint at = (nuint)(b * BlockSize);
            Vector256<float> x0 = Vector256.LoadUnsafe(ref rx, at), x1 = Vector256.LoadUnsafe(ref rx, at + 8);
            Vector256<float> x2 = Vector256.LoadUnsafe(ref rx, at + 16), x3 = Vector256.LoadUnsafe(ref rx, at + 24);
            Vector256<float> nan = ~(Vector256.Equals(x0, x0) & Vector256.Equals(x1, x1) & Vector256.Equals(x2, x2) & Vector256.Equals(x3, x3));
            if (nan != Vector256<float>.Zero)
            {
                ReferenceActivationQuantizer.Block(x.Slice(b * BlockSize, BlockSize), q.Slice(b * BlockSize, BlockSize), out scales[b], out sums[b]);
                continue;
            }

            Vector256<float> m = Vector256.Max(Vector256.Max(Vector256.Abs(x0), Vector256.Abs(x1)), Vector256.Max(Vector256.Abs(x2), Vector256.Abs(x3)));
            Vector128<float> m4 = Vector128.Max(m.GetLower(), m.GetUpper());
            Vector128<float> m2 = Vector128.Max(m4, Vector128.Shuffle(m4, Vector128.Create(2, 3, 0, 1)));
            float amax = MathF.Max(m2.ToScalar(), m2.GetElement(1));
            float d = amax / 127f;
            float id = d != 0f ? 1f / d : 0f;
            Vector256<float> idv = Vector256.Create(id);
            Vector256<int> q0 = Quant(x0, idv), q1 = Quant(x1, idv), q2 = Quant(x2, idv), q3 = Quant(x3, idv);
            Vector256<sbyte> packed = Vector256.Narrow(Vector256.Narrow(q0, q1), Vector256.Narrow(q2, q3));
            packed.StoreUnsafe(ref rq, at);
            scales[b] = d;
            sums[b] = Vector256.Sum((q0 + q1) + (q2 + q3));
        }
    }

    /// <summary>RoundToEven(x · id) with NaN as 0, clamped to [-127, 127], as integers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Quant(Vector256<float> x, Vector256<float> id)
    {
        Vector256<float> r = Vector256.Round(x * id);
        r &= Vector256.Equals(r, r);   // NaN (∞ · 0) → +0
        r = Vector256.Min(Vector256.Max(r, Vector256.Create(-127f)), Vector256.Create(127f));
        return Vector256.ConvertToInt32(r);
    }
}
