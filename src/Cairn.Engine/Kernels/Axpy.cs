using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Cairn.Engine.Kernels.Reference;

namespace Cairn.Engine.Kernels;

/// <summary>y[i] = FusedMultiplyAdd(a, x[i], y[i]); elementwise, so every width gives <see cref="ReferenceAxpy"/>'s bits.</summary>
public static class Axpy
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Apply(float a, ReadOnlySpan<float> x, Span<float> y)
    {
        KernelGuard.SameLength(x.Length, y.Length, nameof(x), nameof(y));
        int n = x.Length, i = 0;
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        if (KernelOptions.UseVector512)
        {
            Vector512<float> va = Vector512.Create(a);
            for (; i <= n - 16; i += 16)
            {
                Vector512.FusedMultiplyAdd(va, Vector512.LoadUnsafe(ref rx, (nuint)i), Vector512.LoadUnsafe(ref ry, (nuint)i)).StoreUnsafe(ref ry, (nuint)i);
            }
        }
        else if (KernelOptions.UseVector256)
        {
            Vector256<float> va = Vector256.Create(a);
            for (; i <= n - 8; i += 8)
            {
                Vector256.FusedMultiplyAdd(va, Vector256.LoadUnsafe(ref rx, (nuint)i), Vector256.LoadUnsafe(ref ry, (nuint)i)).StoreUnsafe(ref ry, (nuint)i);
            }
        }
        else if (KernelOptions.UseVector128)
        {
            Vector128<float> va = Vector128.Create(a);
            for (; i <= n - 4; i += 4)
            {
                Vector128.FusedMultiplyAdd(va, Vector128.LoadUnsafe(ref rx, (nuint)i), Vector128.LoadUnsafe(ref ry, (nuint)i)).StoreUnsafe(ref ry, (nuint)i);
            }
        }

        for (; i < n; i++) Unsafe.Add(ref ry, i) = MathF.FusedMultiplyAdd(a, Unsafe.Add(ref rx, i), Unsafe.Add(ref ry, i));
    }
}
