using System.Runtime.CompilerServices;
using Cairn.Engine.Kernels;
using Cairn.Engine.Models;

namespace Cairn.Engine.Inference;

/// <summary>
/// Rotary position embedding. Frequencies and angles are computed in double with the engine's own
/// <see cref="DetMath"/> (no platform math library, DESIGN.md §3 rule 4) and rounded to float once:
/// <c>inv_freq[i] = base^(-2i/rope_dims) / factor[i]</c>, <c>angle = (pos · freq_scale) · inv_freq[i]</c>.
/// The rotation of a pair (x0, x1) is <c>x0' = fma(x0, c, -(x1·s))</c>, <c>x1' = fma(x0, s, x1·c)</c>.
/// </summary>
public sealed class RopeTable
{
    private readonly double[] _invFreq;
    private readonly ModelConfig _config;

    public RopeTable(ModelConfig config, float[]? freqFactors)
    {
        _config = config;
        int pairs = config.RopeDims / 2;
        _invFreq = new double[pairs];
        double logBase = DetMath.Log(config.RopeBase);
        for (int i = 0; i < pairs; i++)
        {
            double f = DetMath.Exp(-(2.0 * i / config.RopeDims) * logBase);
            if (freqFactors != null) f /= freqFactors[i];
            _invFreq[i] = f;
        }
    }

    public int Pairs => _invFreq.Length;

    /// <summary>Fills cos/sin for one position (length <see cref="Pairs"/> each).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Compute(int position, Span<float> cos, Span<float> sin)
    {
        double p = (double)position * _config.RopeFreqScale;
        for (int i = 0; i < _invFreq.Length; i++)
        {
            double angle = p * _invFreq[i];
            cos[i] = (float)DetMath.Cos(angle);
            sin[i] = (float)DetMath.Sin(angle);
        }
    }

    /// <summary>Rotates every head of <paramref name="x"/> (heads × head_dim) in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Apply(Span<float> x, int heads, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin)
    {
        int headDim = _config.HeadDim, pairs = _invFreq.Length;
        int stride = _config.RopeStyle == RopeStyle.Normal ? 1 : pairs;
        for (int h = 0; h < heads; h++)
        {
            var head = x.Slice(h * headDim, headDim);
            for (int i = 0; i < pairs; i++)
            {
                int i0 = _config.RopeStyle == RopeStyle.Normal ? 2 * i : i;
                int i1 = i0 + stride;
                float x0 = head[i0], x1 = head[i1], c = cos[i], s = sin[i];
                head[i0] = MathF.FusedMultiplyAdd(x0, c, -(x1 * s));
                head[i1] = MathF.FusedMultiplyAdd(x0, s, x1 * c);
            }
        }
    }
}
