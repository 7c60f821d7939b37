using Cairn.Protocol.Crypto;
using Cairn.Protocol.Messages;
using Grpc.Core;

namespace Cairn.Node.Provider;

/// <summary>A stage's signed part of a session's trace, returned by <c>Close</c> with <c>sign_part</c> (docs/pipeline.md).</summary>
public sealed partial class StageService
{
    /// <summary>
    /// The stage's signed part of the session's trace (docs/pipeline.md, "Signed stage parts"): its layers' hashes at every
    /// position it computed, and on the last stage the tokens it sampled.
    /// </summary>
    private StagePart SignedPart(StageSession session)
    {
        var model = session.Model.Model;
        var trace = session.Session.Trace!;
        int first = model.FirstLayer, end = model.EndLayer;
        if (trace.Steps == 0) throw new RpcException(new Status(StatusCode.FailedPrecondition, "the session computed no position"));
        var steps = new IReadOnlyList<Hash256>[trace.Steps];
        for (int s = 0; s < steps.Length; s++)
        {
            var step = new Hash256[end];
            for (int l = first; l < end; l++) step[l] = new Hash256(trace.LayerHash(s, l) ?? throw new RpcException(new Status(StatusCode.FailedPrecondition, $"layer {l} of position {s} was not computed")));
            steps[s] = step;
        }
        return state.SignStagePart(new StagePart
        {
            RequestHash = session.Request.Hash(),
            ModelHash = session.Request.ModelHash,
            FirstLayer = first,
            EndLayer = end,
            LayerCount = model.Config.Layers,
            Steps = steps.Length,
            PartRoot = StagePart.RootOf(steps, first, end),
            Tokens = model.HasHead ? [.. session.Generated] : [],
            Provider = state.Id,
        });
    }
}
