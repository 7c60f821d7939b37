using Cairn.Protocol.Crypto;

namespace Cairn.Protocol.Sampling;

/// <summary>
/// What one party reveals of its trace during a dispute: the root of every step (token position, prompt included), and
/// for the steps it was asked about, that step's per-layer hashes. The step roots must hash to the receipt's trace root
/// and each revealed layer list to its step root (<see cref="TraceMerkle"/>).
/// </summary>
public sealed class TraceCommitment
{
    private readonly Dictionary<int, IReadOnlyList<Hash256>> _layers = [];

    public TraceCommitment(IReadOnlyList<Hash256> stepRoots) => StepRoots = stepRoots;

    /// <summary>A full trace: every step's layer hashes, the step roots computed from them.</summary>
    public static TraceCommitment FromLayerHashes(IReadOnlyList<IReadOnlyList<Hash256>> steps)
    {
        var trace = new TraceCommitment(steps.Select(TraceMerkle.Root).ToArray());
        for (int i = 0; i < steps.Count; i++) trace._layers[i] = steps[i];
        return trace;
    }

    public IReadOnlyList<Hash256> StepRoots { get; }
    public int Steps => StepRoots.Count;
    public Hash256 TraceRoot => TraceMerkle.Root(StepRoots);

    /// <summary>Reveals step <paramref name="step"/>'s layer hashes; refused unless they hash to its step root.</summary>
    public void RevealLayers(int step, IReadOnlyList<Hash256> layerHashes)
    {
        if ((uint)step >= (uint)StepRoots.Count) throw new ArgumentOutOfRangeException(nameof(step), $"step {step} is outside the trace's {StepRoots.Count} steps");
        if (TraceMerkle.Root(layerHashes) != StepRoots[step]) throw new ArgumentException($"the layer hashes of step {step} do not hash to its step root", nameof(layerHashes));
        _layers[step] = layerHashes;
    }

    public IReadOnlyList<Hash256>? LayerHashes(int step) => _layers.GetValueOrDefault(step);

    /// <summary>True iff the step roots hash to <paramref name="traceRoot"/> (the value in the signed receipt).</summary>
    public bool Matches(Hash256 traceRoot) => TraceRoot == traceRoot;
}

/// <summary>The first point where two traces differ: token step (position) and layer.</summary>
public readonly record struct DisputePoint(int Step, int Layer);

/// <summary>
/// Bisection of DESIGN.md §4.4. Everything before the returned point is agreed: every layer of every earlier step, and
/// the earlier layers of the disputed step. Where one trace is a strict prefix of the other, the point is the first
/// step that only one has, at layer 0 (the shorter side has no hash there and loses); where one step has fewer layers,
/// the point is the first layer only one has.
/// </summary>
public static class Bisection
{
    /// <summary>The first step whose roots differ, or null when the step-root lists are equal.</summary>
    public static int? FirstDifferingStep(IReadOnlyList<Hash256> a, IReadOnlyList<Hash256> b)
    {
        int n = Math.Min(a.Count, b.Count);
        for (int i = 0; i < n; i++) if (a[i] != b[i]) return i;
        return a.Count == b.Count ? null : n;
    }

    /// <summary>The first layer whose hashes differ (or that only one side has), or null if equal.</summary>
    public static int? FirstDifferingLayer(IReadOnlyList<Hash256> a, IReadOnlyList<Hash256> b) => FirstDifferingStep(a, b);

    /// <summary>
    /// The first (step, layer) at which <paramref name="a"/> and <paramref name="b"/> differ, or null if the traces are equal.
    /// Both must have revealed the layer hashes of the differing step (when both have it).
    /// </summary>
    public static DisputePoint? FirstDifference(TraceCommitment a, TraceCommitment b)
    {
        if (FirstDifferingStep(a.StepRoots, b.StepRoots) is not int step) return null;
        if (step >= a.Steps || step >= b.Steps) return new DisputePoint(step, 0);
        var la = a.LayerHashes(step) ?? throw new InvalidOperationException($"the first party has not revealed the layer hashes of step {step}");
        var lb = b.LayerHashes(step) ?? throw new InvalidOperationException($"the second party has not revealed the layer hashes of step {step}");
        int layer = FirstDifferingLayer(la, lb) ?? throw new InvalidOperationException($"step {step}'s roots differ but its layer hashes are equal");
        return new DisputePoint(step, layer);
    }
}
