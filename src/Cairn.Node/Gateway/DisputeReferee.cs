using System.Security.Cryptography;
using Cairn.Engine.Adapters;
using Cairn.Engine.Commitments;
using Cairn.Engine.Inference;
using Cairn.Engine.Sampling;
using Cairn.Engine.Tokenization;
using Cairn.Engine.Verification;
using Cairn.Node.Provider;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Messages;
using Cairn.Protocol.Sampling;
using Cairn.Protocol.Validation;

namespace Cairn.Node.Gateway;

/// <summary>One side of a dispute: its signed receipt, the tokens it streamed and its revealed trace ([step][layer]).</summary>
public sealed record DisputeSide(Receipt Receipt, int[] Tokens, Hash256[][] LayerHashes)
{
    public TraceCommitment Commitment() => TraceCommitment.FromLayerHashes(LayerHashes);
}

/// <summary>A settled dispute: its kind (<c>layer</c> or <c>token</c>), the point, the verdict and the canonical evidence.</summary>
public sealed record DisputeRuling(string Kind, Verdict Verdict, int Step, int Layer, int? Index, byte[] Evidence, Hash256 EvidenceHash, string Detail);

/// <summary>
/// The gateway's referee (DESIGN.md §4.4, docs/verification.md "In the network"): given two sides whose traces are
/// bound to their receipts, finds where they part — a layer (<see cref="Bisection"/>, settled by
/// <see cref="Referee.Recompute"/> on the agreed inputs of that one layer) or, where they agree on every layer of every
/// step both fed the same tokens to, the sampler (<see cref="TokenReferee"/> on the agreed last-layer output) — and
/// writes the evidence (<see cref="DisputeEvidence"/> version 1, <see cref="TokenDisputeEvidence"/> version 2) that
/// <c>cairn verify</c> re-checks.
/// </summary>
public static class DisputeReferee
{
    /// <summary>
    /// Asks a side for the outputs of <c>layer</c> at steps <c>0..steps−1</c>: the asserter when the flag is true, else the
    /// validator; null when it did not deliver. The referee checks every row against the agreed hashes.
    /// </summary>
    public delegate Task<float[][]?> Capture(bool asserter, int layer, int steps);

    /// <summary>Why a side's revealed trace and tokens do not bind to its signed receipt (it forfeits), or null.</summary>
    public static string? Binding(DisputeSide side)
    {
        var r = side.Receipt;
        if (side.Tokens.Length != r.CompletionTokens) return $"it streamed {side.Tokens.Length} tokens, its receipt counts {r.CompletionTokens}";
        if (side.LayerHashes.Length == 0) return "its trace is empty";
        var roots = side.LayerHashes.Select(TraceMerkle.Root).ToArray();
        if (TraceMerkle.Root(roots) != r.TraceRoot) return "its revealed trace does not hash to the trace root of its receipt";
        if (DisputeEvidence.OutputCommitment(side.Tokens, r.TraceRoot) != r.OutputCommitment) return "its tokens and trace root do not give the output commitment of its receipt";
        return null;
    }

    /// <summary>Settles a dispute between two bound sides; null with a reason when it cannot (no difference, no agreed inputs delivered).</summary>
    public static Task<(DisputeRuling? Ruling, string? Unresolved)> SettleAsync(Transformer transformer, InferenceRequest request, IReadOnlyList<string> stops,
        DisputeSide asserter, DisputeSide validator, Capture capture) => SettleAsync(transformer, [], request, stops, asserter, validator, capture);

    /// <summary>As above for a request with LoRA adapters: <paramref name="adapters"/> are its adapters, in request order.</summary>
    public static async Task<(DisputeRuling? Ruling, string? Unresolved)> SettleAsync(Transformer transformer, IReadOnlyList<LoraAdapter> adapters, InferenceRequest request,
        IReadOnlyList<string> stops, DisputeSide asserter, DisputeSide validator, Capture capture)
    {
        var a = asserter.Commitment();
        var v = validator.Commitment();
        int prompt = request.PromptTokens.Count;
        int? index = TokenDisputeEvidence.FirstTokenDifference(asserter.Tokens, validator.Tokens);
        if (Bisection.FirstDifferingStep(a.StepRoots, v.StepRoots) is int t && t < a.Steps && t < v.Steps && (index is null || t <= prompt + index - 1))
            return await LayerDispute(transformer, adapters, request, asserter, validator, a, v, capture);
        if (index is int i) return await TokenDispute(transformer, adapters, request, stops, asserter, validator, a, v, i, capture);
        return (null, "the traces and tokens are equal");
    }

    private static async Task<(DisputeRuling?, string?)> LayerDispute(Transformer transformer, IReadOnlyList<LoraAdapter> adapters, InferenceRequest request, DisputeSide asserter, DisputeSide validator,
        TraceCommitment a, TraceCommitment v, Capture capture)
    {
        var point = Bisection.FirstDifference(a, v)!.Value;
        int t = point.Step, l = point.Layer;
        int[] fed = [.. request.PromptTokens, .. asserter.Tokens];
        RefereeResult? result = null;
        float[][]? inputs = null;
        if (l == 0) result = Referee.Recompute(transformer, new RefereeCase { Tokens = fed, Step = t, Layer = 0, Adapters = adapters });
        else
        {
            var agreed = Enumerable.Range(0, t + 1).Select(s => a.LayerHashes(s)![l - 1].ToArray()).ToArray();
            foreach (bool fromAsserter in new[] { true, false })
            {
                var rows = await capture(fromAsserter, l - 1, t + 1);
                if (rows is null) continue;
                try
                {
                    result = Referee.Recompute(transformer, new RefereeCase { Tokens = fed, Step = t, Layer = l, Inputs = rows, AgreedInputHashes = agreed, Adapters = adapters });
                    inputs = rows;
                    break;
                }
                catch (RefereeException)
                {
                    // Refused rows: ask the other side.
                }
            }
        }
        if (result is null) return (null, $"neither side delivered the agreed inputs of layer {l} at step {t}");
        var recomputed = new Hash256(result.Hash);
        IReadOnlyList<Hash256> StepLayers(TraceCommitment c) => t < c.Steps ? c.LayerHashes(t)! : [];
        var aLayers = StepLayers(a);
        var vLayers = StepLayers(v);
        var evidence = new DisputeEvidence
        {
            Request = request,
            AsserterReceipt = asserter.Receipt,
            ValidatorReceipt = validator.Receipt,
            Step = t,
            Layer = l,
            AsserterTokens = asserter.Tokens,
            ValidatorTokens = validator.Tokens,
            AsserterStepRoots = a.StepRoots,
            ValidatorStepRoots = v.StepRoots,
            AgreedLayerHashes = Enumerable.Range(0, t).Select(s => a.LayerHashes(s)!).ToArray(),
            AsserterStepLayers = aLayers,
            ValidatorStepLayers = vLayers,
            Inputs = inputs ?? [],
            InputsHash = new Hash256(result.InputsHash),
            RecomputedHash = recomputed,
            Verdict = DisputeEvidence.Decide(recomputed, l < aLayers.Count ? aLayers[l] : null, l < vLayers.Count ? vLayers[l] : null),
        };
        var check = evidence.Check();
        if (!check.IsValid) return (null, $"the layer evidence does not check: {check}");
        var bytes = evidence.Encode();
        return (new DisputeRuling("layer", evidence.Verdict, t, l, null, bytes, Keccak256.Hash(bytes),
            $"step {t}, layer {l}: recomputed {recomputed} in {result.Elapsed.TotalMilliseconds:F1} ms over {result.Positions} positions"), null);
    }

    private static async Task<(DisputeRuling?, string?)> TokenDispute(Transformer transformer, IReadOnlyList<LoraAdapter> adapters, InferenceRequest request, IReadOnlyList<string> stops,
        DisputeSide asserter, DisputeSide validator, TraceCommitment a, TraceCommitment v, int index, Capture capture)
    {
        int prompt = request.PromptTokens.Count, s = prompt + index - 1, last = transformer.Config.Layers - 1;
        bool both = s < a.Steps && s < v.Steps;
        var c = Case(transformer, request, stops, asserter.Tokens[..index]) with { Adapters = adapters };
        byte[]? agreedHash = both ? a.LayerHashes(s)![last].ToArray() : null;
        float[]? hidden = null;
        if (both && TokenReferee.MustEnd(transformer, c) is null)
        {
            foreach (bool fromAsserter in new[] { true, false })
            {
                var rows = await capture(fromAsserter, last, s + 1);
                if (rows is not null && rows.Length > s && SHA256.HashData(CanonicalFloats.Bytes(rows[s])).AsSpan().SequenceEqual(agreedHash))
                {
                    hidden = rows[s];
                    break;
                }
            }
            if (hidden is null) return (null, $"neither side delivered the agreed output of layer {last} at step {s}");
        }
        var ruling = TokenReferee.Decide(transformer, c with { FinalHidden = hidden, AgreedFinalHash = agreedHash });
        var evidence = new TokenDisputeEvidence
        {
            Request = request,
            AsserterReceipt = asserter.Receipt,
            ValidatorReceipt = validator.Receipt,
            Stops = stops,
            Index = index,
            AsserterTokens = asserter.Tokens,
            ValidatorTokens = validator.Tokens,
            AsserterStepRoots = a.StepRoots,
            ValidatorStepRoots = v.StepRoots,
            StepLayers = both ? a.LayerHashes(s)! : [],
            Hidden = hidden ?? [],
            Expected = ruling.Token,
            Verdict = TokenDisputeEvidence.Decide(ruling.Token, index < asserter.Tokens.Length ? asserter.Tokens[index] : TokenDisputeEvidence.End,
                index < validator.Tokens.Length ? validator.Tokens[index] : TokenDisputeEvidence.End),
        };
        var check = evidence.Check();
        if (!check.IsValid) return (null, $"the token evidence does not check: {check}");
        var bytes = evidence.Encode();
        string expected = ruling.Token == TokenReferee.End ? "end" : $"token {ruling.Token}";
        return (new DisputeRuling("token", evidence.Verdict, s, last, index, bytes, Keccak256.Hash(bytes),
            $"generated index {index}: the correct continuation is {expected} ({ruling.Reason})"), null);
    }

    /// <summary>The referee's question for index <c>generated.Length</c> of <paramref name="request"/>.</summary>
    public static TokenCase Case(Transformer transformer, InferenceRequest request, IReadOnlyList<string> stops, int[] generated) => new()
    {
        Prompt = [.. request.PromptTokens],
        Generated = generated,
        Sampling = SamplingOf(request),
        MaxTokens = request.MaxTokens,
        StoppedByString = transformer.Model.Tokenizer is { } tokenizer && StoppedByString(tokenizer, stops, generated),
    };

    /// <summary>The engine's sampling options for a request, as a provider builds them.</summary>
    public static SamplingOptions SamplingOf(InferenceRequest request) => new()
    {
        Temperature = request.Sampling.Temperature,
        TopK = request.Sampling.TopK,
        TopP = request.Sampling.TopP,
        MinP = request.Sampling.MinP,
        RepeatPenalty = request.Sampling.RepeatPenalty,
        RepeatLastN = request.Sampling.RepeatLastN,
        Seed = request.Seed,
    };

    /// <summary>
    /// Whether the text of <paramref name="tokens"/> completes one of <paramref name="stops"/>, decoded exactly as a
    /// provider decodes while it streams (<see cref="StreamingDecoder"/>, <see cref="StopMatcher"/>; end-of-generation
    /// tokens add no text).
    /// </summary>
    public static bool StoppedByString(Tokenizer tokenizer, IReadOnlyList<string> stops, IReadOnlyList<int> tokens)
    {
        if (stops.Count == 0) return false;
        var decoder = new StreamingDecoder(tokenizer);
        var matcher = new StopMatcher(stops);
        foreach (int token in tokens)
        {
            if (!tokenizer.IsEndOfGeneration(token)) matcher.Push(decoder.Push(token));
            if (matcher.Stopped) return true;
        }
        return false;
    }

    /// <summary>
    /// Re-checks sampling-dispute evidence: its own model-free checks, then the continuation this machine's referee
    /// gives (the head on the agreed hidden row, or a replay of the prefix when there is none). Valid iff it equals the
    /// evidence's expected continuation (and so the verdict holds).
    /// </summary>
    public static (ValidationResult Result, TokenRuling? Ruling) RecheckToken(Transformer transformer, TokenDisputeEvidence e, IReadOnlyList<LoraAdapter>? adapters = null)
    {
        var check = e.Check();
        if (!check.IsValid) return (check, null);
        TokenRuling ruling;
        try
        {
            var c = Case(transformer, e.Request, e.Stops, e.AgreedTokens()) with
            {
                FinalHidden = e.Hidden.Length > 0 ? e.Hidden : null,
                AgreedFinalHash = e.StepLayers.Count > 0 ? e.StepLayers[^1].ToArray() : null,
                Adapters = adapters ?? [],
            };
            ruling = TokenReferee.Decide(transformer, c);
        }
        catch (Exception x) when (x is RefereeException or ArgumentException)
        {
            return (ValidationResult.Fail(DisputeEvidence.EvidenceMismatch, $"the referee refused the case: {x.Message}"), null);
        }
        if (ruling.Token != e.Expected)
            return (ValidationResult.Fail(DisputeEvidence.EvidenceMismatch, $"the referee gives {(ruling.Token == TokenReferee.End ? "end" : ruling.Token)} ({ruling.Reason}), the evidence says {e.Expected}"), ruling);
        return (ValidationResult.Ok, ruling);
    }
}
