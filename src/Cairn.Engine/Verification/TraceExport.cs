using Cairn.Engine.Adapters;
using Cairn.Engine.Inference;

namespace Cairn.Engine.Verification;

/// <summary>A party's trace of one request: every step's layer hashes, and optionally one layer's outputs.</summary>
public sealed record ExportedTrace
{
    /// <summary>[step][layer] SHA-256 of the layer's output at that position.</summary>
    public required byte[][][] LayerHashes { get; init; }
    public required byte[][] StepRoots { get; init; }
    public required byte[] TraceRoot { get; init; }
    /// <summary>The outputs of <see cref="CapturedLayer"/> per position (null when nothing was captured).</summary>
    public float[][]? Captured { get; init; }
    public int CapturedLayer { get; init; } = -1;
}

/// <summary>
/// What a party hands over in a dispute, produced by replaying its tokens (prompt, then generated) through a fresh
/// traced session. A step is a position and the trace does not depend on chunking (DESIGN.md §3), so the replay's
/// trace is the generation's: a generation of k tokens has prompt + k − 1 steps (the last token is never fed back).
/// </summary>
public static class TraceExport
{
    /// <param name="fedTokens">Every token that was fed to the model: the prompt and all generated tokens but the last.</param>
    /// <param name="captureLayer">Keep this layer's outputs (the inputs of layer captureLayer + 1 for a referee), or -1.</param>
    /// <param name="adapters">The request's LoRA adapters, in request order.</param>
    public static ExportedTrace Replay(Transformer transformer, int[] fedTokens, int captureLayer = -1, IReadOnlyList<LoraAdapter>? adapters = null)
    {
        if (fedTokens.Length == 0) throw new ArgumentException("no tokens to replay", nameof(fedTokens));
        var session = transformer.CreateSession(capacity: fedTokens.Length, trace: true, adapters: adapters);
        session.Trace!.CaptureLayer = captureLayer;
        transformer.Forward(session, fedTokens, []);
        return FromSession(session, captureLayer);
    }

    /// <summary>The trace a traced session has recorded so far.</summary>
    public static ExportedTrace FromSession(Session session, int captureLayer = -1)
    {
        var trace = session.Trace ?? throw new InvalidOperationException("the session was created without a trace");
        var hashes = new byte[trace.Steps][][];
        var roots = new byte[trace.Steps][];
        for (int s = 0; s < trace.Steps; s++)
        {
            hashes[s] = new byte[trace.Layers][];
            for (int l = 0; l < trace.Layers; l++) hashes[s][l] = trace.LayerHash(s, l) ?? throw new InvalidOperationException($"layer {l} of step {s} was not recorded");
            roots[s] = trace.StepRoot(s);
        }
        float[][]? captured = null;
        if (captureLayer >= 0)
        {
            captured = new float[trace.Steps][];
            for (int s = 0; s < trace.Steps; s++) captured[s] = trace.Captured(s) ?? throw new InvalidOperationException($"layer {captureLayer} of step {s} was not captured");
        }
        return new ExportedTrace { LayerHashes = hashes, StepRoots = roots, TraceRoot = trace.TraceRoot(), Captured = captured, CapturedLayer = captureLayer };
    }

    /// <summary>The referee's inputs for (step, layer) from an exported trace that captured layer − 1.</summary>
    public static RefereeCase Case(ExportedTrace supplier, int[] tokens, int step, int layer)
    {
        if (layer == 0) return new RefereeCase { Tokens = tokens, Step = step, Layer = 0 };
        if (supplier.CapturedLayer != layer - 1 || supplier.Captured is null) throw new InvalidOperationException($"the trace captured layer {supplier.CapturedLayer}, the referee needs layer {layer - 1}");
        return new RefereeCase
        {
            Tokens = tokens,
            Step = step,
            Layer = layer,
            Inputs = supplier.Captured[..(step + 1)],
            AgreedInputHashes = supplier.LayerHashes[..(step + 1)].Select(h => h[layer - 1]).ToArray(),
        };
    }
}
