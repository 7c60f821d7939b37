namespace Cairn.Engine.Kernels.Reference;

/// <summary>
/// RMSNorm: ss = <see cref="ReferenceDot.F32"/>(x, x) (the 16-lane order); scale = 1 / Sqrt(ss / n + eps);
/// y[i] = (x[i] * scale) * w[i], two rounded multiplications.
/// </summary>
public static class ReferenceRmsNorm
{
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> w, float eps, Span<float> y)
    {
        KernelGuard.SameLength(x.Length, w.Length, nameof(x), nameof(w));
        KernelGuard.SameLength(x.Length, y.Length, nameof(x), nameof(y));
        float ss = ReferenceDot.F32(x, x);
        float scale = 1f / MathF.Sqrt(ss / x.Length + eps);
        for (int i = 0; i < x.Length; i++) y[i] = x[i] * scale * w[i];
    }
}
