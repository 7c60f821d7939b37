namespace Cairn.Engine.Kernels.Reference;

/// <summary>
/// Scalar spec of the f32 transcendental kernels. The operations here are the ones the vector forms in
/// <see cref="DetMath"/> repeat lane by lane, so every result is bit-identical on every machine.
/// <para>Exp(x): NaN → NaN (x itself); x &gt; 88.72 → +∞; x &lt; -87.33 → +0 (no subnormal results).
/// Otherwise k = RoundToEven(x * log2(e)); r = FMA(k, -ln2_hi, x); r = FMA(k, -ln2_lo, r) (Cody–Waite, ln2_hi has
/// 16 significant bits so the first step is exact); p = Taylor polynomial of degree 7 in r by Horner with FMA
/// (p = c7; p = FMA(p, r, c_i) for i = 6..0); the result is p with k added to its exponent field (an exact scaling:
/// p lies in [0.7, 1.42] and the clamps keep the exponent normal).</para>
/// </summary>
public static class ReferenceDetMath
{
    internal const float ExpHi = 88.72f;
    internal const float ExpLo = -87.33f;
    internal const float Log2E = 1.44269504088896341f;
    internal const float Ln2Hi = 0.693145751953125f;
    internal const float Ln2Lo = 1.42860682030941723212e-6f;
    internal const float C2 = 1f / 2f;
    internal const float C3 = 1f / 6f;
    internal const float C4 = 1f / 24f;
    internal const float C5 = 1f / 120f;
    internal const float C6 = 1f / 720f;
    internal const float C7 = 1f / 5040f;

    public static float Exp(float x)
    {
        if (float.IsNaN(x)) return x;
        if (x > ExpHi) return float.PositiveInfinity;
        if (x < ExpLo) return 0f;
        float k = MathF.Round(x * Log2E, MidpointRounding.ToEven);
        float r = MathF.FusedMultiplyAdd(k, -Ln2Hi, x);
        r = MathF.FusedMultiplyAdd(k, -Ln2Lo, r);
        float p = C7;
        p = MathF.FusedMultiplyAdd(p, r, C6);
        p = MathF.FusedMultiplyAdd(p, r, C5);
        p = MathF.FusedMultiplyAdd(p, r, C4);
        p = MathF.FusedMultiplyAdd(p, r, C3);
        p = MathF.FusedMultiplyAdd(p, r, C2);
        p = MathF.FusedMultiplyAdd(p, r, 1f);
        p = MathF.FusedMultiplyAdd(p, r, 1f);
        return BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(p) + ((int)k << 23));
    }

    /// <summary>x / (1 + Exp(-x)).</summary>
    public static float Silu(float x) => x / (1f + Exp(-x));

    public static void Exp(ReadOnlySpan<float> x, Span<float> y)
    {
        KernelGuard.SameLength(x.Length, y.Length, nameof(x), nameof(y));
        for (int i = 0; i < x.Length; i++) y[i] = Exp(x[i]);
    }

    /// <summary>gate[i] = Silu(gate[i]) * up[i].</summary>
    public static void SiluMul(Span<float> gate, ReadOnlySpan<float> up)
    {
        KernelGuard.SameLength(gate.Length, up.Length, nameof(gate), nameof(up));
        for (int i = 0; i < gate.Length; i++) gate[i] = Silu(gate[i]) * up[i];
    }
}
