namespace Cairn.Engine.Kernels.Reference;

/// <summary>
/// The F32 dot product's reduction order (DESIGN.md §3 rule 1), used by every f32-weight dot, RMSNorm's sum of
/// squares and attention's q·k:
/// <list type="number">
/// <item>16 float lanes, all starting at +0.</item>
/// <item>Element k goes to lane k % 16, in increasing k: lane = FusedMultiplyAdd(a[k], b[k], lane). The tail of
/// a length that is not a multiple of 16 thus lands in lanes 0..tail-1; untouched lanes stay as they are.</item>
/// <item>A fixed pairwise tree: for width in 8, 4, 2, 1: lane[i] = lane[i] + lane[i + width] for i &lt; width.</item>
/// <item>The result is lane[0].</item>
/// </list>
/// </summary>
public static class ReferenceDot
{
    public const int Lanes = 16;

    public static float F32(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        KernelGuard.SameLength(a.Length, b.Length, nameof(a), nameof(b));
        Span<float> lanes = stackalloc float[Lanes];
        lanes.Clear();
        for (int k = 0; k < a.Length; k++)
        {
            lanes[k % Lanes] = MathF.FusedMultiplyAdd(a[k], b[k], lanes[k % Lanes]);
        }

        return Tree16(lanes);
    }

    /// <summary>The fixed pairwise tree over 16 lanes (widths 8, 4, 2, 1). Overwrites <paramref name="lanes"/>.</summary>
    public static float Tree16(Span<float> lanes)
    {
        for (int width = 8; width >= 1; width /= 2)
        {
            for (int i = 0; i < width; i++) lanes[i] = lanes[i] + lanes[i + width];
        }

        return lanes[0];
    }

    /// <summary>The fixed pairwise tree over 8 lanes (widths 4, 2, 1). Overwrites <paramref name="lanes"/>.</summary>
    public static float Tree8(Span<float> lanes)
    {
        for (int width = 4; width >= 1; width /= 2)
        {
            for (int i = 0; i < width; i++) lanes[i] = lanes[i] + lanes[i + width];
        }

        return lanes[0];
    }
}
