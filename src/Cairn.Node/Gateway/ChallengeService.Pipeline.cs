using Cairn.Engine.Inference;
using Cairn.Engine.Sampling;
using Cairn.Engine.Verification;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Messages;
using Cairn.Protocol.Sampling;

namespace Cairn.Node.Gateway;

/// <summary>
/// Proof of Sampling on pipelined requests (docs/verification.md, "Pipelined requests"). The draw is the same as for any
/// receipt. The validator is the gateway's own copy of the model (<c>cairn gateway --model</c>, <see cref="RefereeModels"/>):
/// no provider serves the whole model (else the request would not have been pipelined), so the gateway replays the prompt
/// and the pipeline's tokens through it and compares every layer hash of every step with the trace the stages signed,
/// and re-samples every token from its own last-layer outputs. The first differing (step, layer) lies in exactly one
/// stage's signed part; the referee recomputes that one layer from the inputs the trace attests, and that stage's
/// provider — no other stage, not the gateway — is slashed, with <see cref="StageDisputeEvidence"/> that
/// <c>cairn verify</c> re-checks.
/// </summary>
public sealed partial class ChallengeService
{
    /// <summary>One pipelined answer as the gateway settled it: its stages' parts (layer order) and their provider ids.</summary>
    public sealed record PipelineAnswer(string RequestId, InferenceRequest Request, Receipt Receipt, StagePart[] Parts, string[] StageIds, int[] Tokens,
        Hash256[][] Trace);

    /// <summary>Draws whether a pipelined receipt is challenged; if so validates it in the background (the client is never delayed).</summary>
    public void ConsiderPipeline(PipelineAnswer answer, long epoch)
    {
        if (!Enabled) return;
        byte[]? secret;
        lock (_gate) _secrets.TryGetValue(epoch, out secret);
        if (secret is null) return;
        var receiptHash = answer.Receipt.Hash();
        if (!ChallengeDraw.IsChallenged(secret, receiptHash, options.ChallengeRate)) return;
        ledger.RecordChallengeDrawn(receiptHash, epoch, answer.Receipt.Provider);
        Interlocked.Increment(ref _pending);
        _ = Task.Run(() =>
        {
            try
            {
                ValidatePipeline(answer, epoch);
            }
            catch (Exception e)
            {
                log.LogError(e, "challenge of pipelined {RequestId} failed", answer.RequestId);
            }
            finally
            {
                Interlocked.Decrement(ref _pending);
            }
        });
    }

    private void ValidatePipeline(PipelineAnswer answer, long epoch)
    {
        string id = answer.Receipt.Hash().ToString();
        string asserter = "pipeline " + string.Join(" > ", answer.StageIds);
        string commitment = answer.Receipt.OutputCommitment.ToString();
        var referee = referees.Find(answer.Request.ModelHash, answer.Request.AdapterHashes);
        if (referee is null)
        {
            // No provider serves the whole model, and the gateway holds no copy of it: nobody can re-execute.
            Record(new ChallengeView(id, answer.RequestId, epoch, asserter, null, "no-validator", null, commitment, null, 0, 0, time.GetUtcNow(), null));
            GatewayLog.ChallengeUnvalidated(log, answer.RequestId, asserter);
            return;
        }
        var transformer = referee.Value.Transformer;
        int prompt = answer.Request.PromptTokens.Count, layers = transformer.Config.Layers;
        int[] fed = [.. answer.Request.PromptTokens, .. answer.Tokens[..^1]];
        var honest = TraceExport.Replay(transformer, fed, captureLayer: layers - 1);
        const string validator = "gateway referee";

        var point = FirstDifference(answer.Trace, honest.LayerHashes);
        if (point is null && SamplingDifference(transformer, answer, honest.Captured!) is int index)
        {
            // The layers agree but the last stage's tokens are not what its sampler gives: a sampling fault. Its
            // evidence (TokenDisputeEvidence for stages) is not built yet: recorded, nobody is slashed.
            string detail = $"generated index {index}: the last stage's token differs from the referee's sampling of the agreed last-layer output (a sampling dispute of a pipeline is not refereed yet)";
            var view = new DisputeView($"{id}-0", "unresolved", prompt + index - 1, layers - 1, index, "mismatch: unresolved", null, 0, null, detail);
            Record(new ChallengeView(id, answer.RequestId, epoch, asserter, validator, view.Verdict, false, commitment, null, 0, 0, time.GetUtcNow(), view));
            GatewayLog.DisputeSettled(log, view.Id, answer.RequestId, "no", view.Verdict, detail);
            return;
        }
        if (point is null)
        {
            for (int i = 0; i < answer.StageIds.Length; i++) directory.Reputation.RecordChallenge(answer.StageIds[i], true);
            Record(new ChallengeView(id, answer.RequestId, epoch, asserter, validator, "match", true, commitment, commitment, 0, 0, time.GetUtcNow(), null));
            GatewayLog.ChallengeVerdict(log, answer.RequestId, asserter, validator, "match", 0, 0);
            return;
        }
        var dispute = StageDispute($"{id}-0", transformer, answer, point.Value.Step, point.Value.Layer);
        Record(new ChallengeView(id, answer.RequestId, epoch, asserter, validator, dispute.Verdict, false, commitment, null, dispute.Slashed, 0, time.GetUtcNow(), dispute));
        GatewayLog.ChallengeVerdict(log, answer.RequestId, asserter, validator, dispute.Verdict, dispute.Slashed, 0);
    }

    /// <summary>The first (step, layer) where the pipeline's trace and the referee's differ, or null if they are equal.</summary>
    private static (int Step, int Layer)? FirstDifference(Hash256[][] pipeline, byte[][][] referee)
    {
        for (int s = 0; s < pipeline.Length; s++)
        {
            for (int l = 0; l < pipeline[s].Length; l++)
            {
                if (pipeline[s][l] != new Hash256(referee[s][l])) return (s, l);
            }
        }
        return null;
    }

    /// <summary>The first generated index whose token is not what the request's sampler picks from the referee's last-layer output.</summary>
    private static int? SamplingDifference(Transformer transformer, PipelineAnswer answer, float[][] lastLayer)
    {
        int prompt = answer.Request.PromptTokens.Count;
        var sampler = Sampler.Resume(DisputeReferee.SamplingOf(answer.Request), [.. answer.Request.PromptTokens], 0);
        for (int i = 0; i < answer.Tokens.Length; i++)
        {
            if (sampler.Sample(transformer.LastLogits(lastLayer[prompt + i - 1])) != answer.Tokens[i]) return i;
        }
        return null;
    }

    /// <summary>
    /// The referee recomputes layer <paramref name="layer"/> at <paramref name="step"/> from the inputs the pipeline's
    /// own trace attests (its outputs of layer − 1 at 0..step, equal to the referee's there since the traces agree before
    /// the point); the stage whose part covers the layer is slashed with the evidence.
    /// </summary>
    private DisputeView StageDispute(string disputeId, Transformer transformer, PipelineAnswer answer, int step, int layer)
    {
        int[] fed = answer.Request.PromptTokens.Concat(answer.Tokens).Take(step + 1).ToArray();
        float[][]? inputs = layer == 0 ? null : TraceExport.Replay(transformer, fed, captureLayer: layer - 1).Captured;
        var result = Referee.Recompute(transformer, new RefereeCase
        {
            Tokens = fed,
            Step = step,
            Layer = layer,
            Inputs = inputs,
            AgreedInputHashes = inputs is null ? null : Enumerable.Range(0, step + 1).Select(s => answer.Trace[s][layer - 1].ToArray()).ToArray(),
        });
        var evidence = new StageDisputeEvidence
        {
            Request = answer.Request,
            Receipt = answer.Receipt,
            Parts = answer.Parts,
            Tokens = answer.Tokens,
            LayerHashes = answer.Trace,
            Step = step,
            Layer = layer,
            Inputs = inputs ?? [],
            InputsHash = new Hash256(result.InputsHash),
            RecomputedHash = new Hash256(result.Hash),
        };
        var check = evidence.Check();
        if (!check.IsValid)
        {
            GatewayLog.DisputeSettled(log, disputeId, answer.RequestId, "no", "mismatch: unresolved", check.ToString());
            return new DisputeView(disputeId, "unresolved", step, layer, null, "mismatch: unresolved", null, 0, null, check.ToString());
        }
        byte[] bytes = evidence.Encode();
        var hash = Keccak256.Hash(bytes);
        Directory.CreateDirectory(DisputeDirectory);
        File.WriteAllBytes(Path.Combine(DisputeDirectory, disputeId + ".evidence"), bytes);
        int k = evidence.AccusedIndex();
        var accused = answer.Parts[k];
        string loser = answer.StageIds[k];
        directory.Reputation.RecordChallenge(loser, false);
        long slashed = ledger.Slash($"challenge/{disputeId}/slash-stage", accused.Provider, Slash, hash, null);
        string detail = $"step {step}, layer {layer}: stage {k} (layers {accused.FirstLayer}..{accused.EndLayer - 1}, {loser}) signed {answer.Trace[step][layer]}, " +
                        $"the layer recomputes to {evidence.RecomputedHash} over {result.Positions} positions";
        GatewayLog.DisputeSettled(log, disputeId, answer.RequestId, "stage-layer", "mismatch: stage wrong", $"{detail}; evidence {hash}");
        return new DisputeView(disputeId, "stage-layer", step, layer, null, "mismatch: stage wrong", loser, slashed, hash.ToString(), detail);
    }
}
