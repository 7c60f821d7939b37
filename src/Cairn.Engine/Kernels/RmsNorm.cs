using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Cairn.Engine.Kernels.Reference;

namespace Cairn.Engine.Kernels;

/// <summary>RMSNorm with <see cref="ReferenceRmsNorm"/>'s bits: ss by <see cref="Dot.F32"/>, then (x[i] * scale) * w[i].</summary>
public static class RmsNorm
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> w, float eps, Span<float> y)
    {
        KernelGuard.SameLength(x.Length, w.Length, nameof(x), nameof(w));
        KernelGuard.SameLength(x.Length, y.Length, nameof(x), nameof(y));
        float ss = Dot.F32(x, x);
        float scale = 1f / MathF.Sqrt(ss / x.Length + eps);
        int n = x.Length, i = 0;
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float rw = ref MemoryMarshal.GetReference(w);
        ref float ry = ref MemoryMarshal.GetReference(y);
        if (KernelOptions.UseVector512)
        {
            Vector512<float> vs = Vector512.Create(scale);
            for (; i <= n - 16; i += 16) (Vector512.LoadUnsafe(ref rx, (nuint)i) * vs * Vector512.LoadUnsafe(ref rw, (nuint)i)).StoreUnsafe(ref ry, (nuint)i);
        }
        else if (KernelOptions.UseVector256)
        {
            Vector256<float> vs = Vector256.Create(scale);
            for (; i <= n - 8; i += 8) (Vector256.LoadUnsafe(ref rx, (nuint)i) * vs * Vector256.LoadUnsafe(ref rw, (nuint)i)).StoreUnsafe(ref ry, (nuint)i);
        }
        else if (KernelOptions.UseVector128)
        {
            Vector128<float> vs = Vector128.Create(scale);
            for (; i <= n - 4; i += 4) (Vector128.LoadUnsafe(ref rx, (nuint)i) * vs * Vector128.LoadUnsafe(ref rw, (nuint)i)).StoreUnsafe(ref ry, (nuint)i);
        }

        for (; i < n; i++) Unsafe.Add(ref ry, i) = Unsafe.Add(ref rx, i) * scale * Unsafe.Add(ref rw, i);
    }
}
