using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Cairn.Engine.Kernels.Reference;

namespace Cairn.Engine.Kernels;

/// <summary>
/// Softmax in place with <see cref="ReferenceSoftmax"/>'s bits: the max and the sequential sum are scalar (the order is
/// the spec), the exponentials and the divisions are vectorized lane by lane.
/// </summary>
public static class Softmax
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void InPlace(Span<float> x)
    {
        if (x.IsEmpty) return;
        float max = float.NegativeInfinity;
        for (int i = 0; i < x.Length; i++) max = MathF.Max(max, x[i]);
        Shift(x, max);
        DetMath.Exp(x, x);
        float sum = 0f;
        for (int i = 0; i < x.Length; i++) sum += x[i];
        Divide(x, sum);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Shift(Span<float> x, float max)
    {
        int n = x.Length, i = 0;
        ref float rx = ref MemoryMarshal.GetReference(x);
        if (KernelOptions.UseVector512)
        {
            for (; i <= n - 16; i += 16) (Vector512.LoadUnsafe(ref rx, (nuint)i) - Vector512.Create(max)).StoreUnsafe(ref rx, (nuint)i);
        }
        else if (KernelOptions.UseVector256)
        {
            for (; i <= n - 8; i += 8) (Vector256.LoadUnsafe(ref rx, (nuint)i) - Vector256.Create(max)).StoreUnsafe(ref rx, (nuint)i);
        }
        else if (KernelOptions.UseVector128)
        {
            for (; i <= n - 4; i += 4) (Vector128.LoadUnsafe(ref rx, (nuint)i) - Vector128.Create(max)).StoreUnsafe(ref rx, (nuint)i);
        }

        for (; i < n; i++) Unsafe.Add(ref rx, i) -= max;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Divide(Span<float> x, float sum)
    {
        int n = x.Length, i = 0;
        ref float rx = ref MemoryMarshal.GetReference(x);
        if (KernelOptions.UseVector512)
        {
            for (; i <= n - 16; i += 16) (Vector512.LoadUnsafe(ref rx, (nuint)i) / Vector512.Create(sum)).StoreUnsafe(ref rx, (nuint)i);
        }
        else if (KernelOptions.UseVector256)
        {
            for (; i <= n - 8; i += 8) (Vector256.LoadUnsafe(ref rx, (nuint)i) / Vector256.Create(sum)).StoreUnsafe(ref rx, (nuint)i);
        }
        else if (KernelOptions.UseVector128)
        {
            for (; i <= n - 4; i += 4) (Vector128.LoadUnsafe(ref rx, (nuint)i) / Vector128.Create(sum)).StoreUnsafe(ref rx, (nuint)i);
        }

        for (; i < n; i++) Unsafe.Add(ref rx, i) /= sum;
    }
}
