namespace Cairn.Engine.Kernels.Reference;

/// <summary>
/// Softmax in place: max = the largest x (MathF.Max, order-free); e_i = Exp(x_i - max) (<see cref="ReferenceDetMath.Exp(float)"/>);
/// sum = e_0 + e_1 + ... sequentially in increasing index order from +0; x_i = e_i / sum.
/// </summary>
public static class ReferenceSoftmax
{
    public static void InPlace(Span<float> x)
    {
        if (x.IsEmpty) return;
        float max = float.NegativeInfinity;
        for (int i = 0; i < x.Length; i++) max = MathF.Max(max, x[i]);
        float sum = 0f;
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = ReferenceDetMath.Exp(x[i] - max);
            sum += x[i];
        }

        for (int i = 0; i < x.Length; i++) x[i] = x[i] / sum;
    }
}
