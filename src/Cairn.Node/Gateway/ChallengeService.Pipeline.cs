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
        Hash256[][] Trace, string[] Stops);

    /// <summary>Draws whether a pipelined receipt is challenged; if so validates it in the background (the client is never delayed).</summary>
    public void ConsiderPipeline(PipelineAnswer answer, long epoch)
    {
        if (!Enabled) return;
        byte[]? secret;
        lock (_gate) _secrets.TryGetValue(epoch, out secret);
        if (secret is null)
        {
            log.LogWarning("receipt of {RequestId} was settled in epoch {Epoch}, whose secret this gateway no longer holds; it is not drawn", answer.RequestId, epoch);
            return;
        }
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
        if (point is null && SamplingFault(transformer, answer, honest.Captured!) is int index)
        {
            // The layers agree, but the last stage's token (or its end) at index is not what the request's sampler gives.
            var view = TokenStageDispute($"{id}-0", transformer, answer, index, honest.Captured!);
            Record(new ChallengeView(id, answer.RequestId, epoch, asserter, validator, view.Verdict, false, commitment, null, view.Slashed, 0, time.GetUtcNow(), view));
            GatewayLog.ChallengeVerdict(log, answer.RequestId, asserter, validator, view.Verdict, view.Slashed, 0);
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

    /// <summary>
    /// The first generated index where the last stage parted from the request's sampler: a token that is not the
    /// sampler's pick from the referee's last-layer output, a token where generation had to end (an end-of-generation token
    /// or a stop string before it, or max tokens), or an end where it had to go on (index = the token count). Null: none.
    /// </summary>
    private static int? SamplingFault(Transformer transformer, PipelineAnswer answer, float[][] lastLayer)
    {
        int prompt = answer.Request.PromptTokens.Count;
        var sampler = Sampler.Resume(DisputeReferee.SamplingOf(answer.Request), [.. answer.Request.PromptTokens], 0);
        for (int i = 0; i < answer.Tokens.Length; i++)
        {
            if (TokenReferee.MustEnd(transformer, DisputeReferee.Case(transformer, answer.Request, answer.Stops, answer.Tokens[..i])) is not null) return i;
            if (sampler.Sample(transformer.LastLogits(lastLayer[prompt + i - 1])) != answer.Tokens[i]) return i;
        }
        return TokenReferee.MustEnd(transformer, DisputeReferee.Case(transformer, answer.Request, answer.Stops, answer.Tokens)) is null ? answer.Tokens.Length : null;
    }

    /// <summary>
    /// The referee's continuation at <paramref name="index"/> (from the agreed last-layer output, or a replay of the prefix
    /// where the last stage ended) differs from the last stage's signed token: the last stage is slashed with the evidence.
    /// </summary>
    private DisputeView TokenStageDispute(string disputeId, Transformer transformer, PipelineAnswer answer, int index, float[][] lastLayer)
    {
        int prompt = answer.Request.PromptTokens.Count, step = prompt + index - 1, last = transformer.Config.Layers - 1;
        float[][] hidden = step < answer.Trace.Length ? [lastLayer[step]] : [];
        var ruling = TokenReferee.Decide(transformer, DisputeReferee.Case(transformer, answer.Request, answer.Stops, answer.Tokens[..index]) with
        {
            FinalHidden = hidden.Length > 0 ? hidden[0] : null,
            AgreedFinalHash = hidden.Length > 0 ? answer.Trace[step][last].ToArray() : null,
        });
        var evidence = new StageDisputeEvidence
        {
            Kind = StageDisputeKind.Token,
            Request = answer.Request,
            Receipt = answer.Receipt,
            Parts = answer.Parts,
            Tokens = answer.Tokens,
            LayerHashes = answer.Trace,
            Step = step,
            Layer = last,
            Inputs = hidden,
            InputsHash = DisputeEvidence.InputsHashOf(hidden),
            RecomputedHash = Hash256.Zero,
            Stops = answer.Stops,
            Index = index,
            Expected = ruling.Token,
        };
        string expected = ruling.Token == TokenReferee.End ? "end" : $"token {ruling.Token}";
        string claim = evidence.Claim == StageDisputeEvidence.End ? "end" : $"token {evidence.Claim}";
        return Convict(disputeId, answer, evidence, "stage-token", step, last, index,
            $"generated index {index}: the last stage signed {claim}, the correct continuation is {expected} ({ruling.Reason})");
    }

    /// <summary>Checks the evidence, stores it, and slashes the stage its point names (no other party: the proof is self-contained).</summary>
    private DisputeView Convict(string disputeId, PipelineAnswer answer, StageDisputeEvidence evidence, string kind, int step, int layer, int? index, string detail)
    {
        var check = evidence.Check();
        if (!check.IsValid)
        {
            GatewayLog.DisputeSettled(log, disputeId, answer.RequestId, "no", "mismatch: unresolved", check.ToString());
            return new DisputeView(disputeId, "unresolved", step, layer, index, "mismatch: unresolved", null, 0, null, check.ToString());
        }
        byte[] bytes = evidence.Encode();
        var hash = Keccak256.Hash(bytes);
        Directory.CreateDirectory(DisputeDirectory);
        File.WriteAllBytes(Path.Combine(DisputeDirectory, disputeId + ".evidence"), bytes);
        int k = evidence.AccusedIndex();
        string loser = answer.StageIds[k];
        directory.Reputation.RecordChallenge(loser, false);
        long slashed = ledger.Slash($"challenge/{disputeId}/slash-stage", answer.Parts[k].Provider, Slash, hash, null);
        detail = $"stage {k} (layers {answer.Parts[k].FirstLayer}..{answer.Parts[k].EndLayer - 1}, {loser}): {detail}";
        GatewayLog.DisputeSettled(log, disputeId, answer.RequestId, kind, "mismatch: stage wrong", $"{detail}; evidence {hash}");
        return new DisputeView(disputeId, kind, step, layer, index, "mismatch: stage wrong", loser, slashed, hash.ToString(), detail);
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
        return Convict(disputeId, answer, evidence, "stage-layer", step, layer, null,
            $"step {step}, layer {layer}: signed {answer.Trace[step][layer]}, the layer recomputes to {evidence.RecomputedHash} over {result.Positions} positions");
    }
}
