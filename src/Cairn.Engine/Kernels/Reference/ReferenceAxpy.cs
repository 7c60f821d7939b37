namespace Cairn.Engine.Kernels.Reference;

/// <summary>y[i] = FusedMultiplyAdd(a, x[i], y[i]).</summary>
public static class ReferenceAxpy
{
    public static void Apply(float a, ReadOnlySpan<float> x, Span<float> y)
    {
        KernelGuard.SameLength(x.Length, y.Length, nameof(x), nameof(y));
        for (int i = 0; i < x.Length; i++) y[i] = MathF.FusedMultiplyAdd(a, x[i], y[i]);
    }
}
