using System.Security.Cryptography;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Encoding;
using Cairn.Protocol.Messages;
using Cairn.Protocol.Validation;

namespace Cairn.Protocol.Sampling;

/// <summary>
/// The record of a settled sampling dispute (docs/verification.md §4, "Sampling disputes"): both sides fed the same
/// tokens and agree on every layer of every step up to <c>s = prompt + Index − 1</c> — the step whose output the head
/// turns into the logits of generated token <see cref="Index"/> — yet they emitted different tokens at
/// <see cref="Index"/>, or one of them ended there. The correct continuation (<see cref="Expected"/>: a token id or
/// <see cref="End"/>) follows from the request's sampling parameters and seed, the agreed tokens before Index, the stop
/// strings the gateway sent, and the agreed last-layer output at <c>s</c> (<see cref="Hidden"/>).
/// <para>
/// Encoding, all integers little-endian: <c>domain("cairn.dispute", 2)</c> ‖ bytes request (signed encoding) ‖ bytes
/// asserter receipt ‖ bytes validator receipt ‖ u32 stop count ‖ stop strings (u32 length ‖ UTF-8) ‖ u32 index ‖ ids
/// asserter tokens ‖ ids validator tokens ‖ hashes asserter step roots ‖ hashes validator step roots ‖ hashes layer
/// hashes of step s (empty when a side has no step s) ‖ u32 width ‖ width × f32 hidden (empty when generation had to end
/// or no agreed hidden exists: the referee replays the prefix) ‖ i32 expected ‖ u8 verdict. Version 1 of the domain is
/// the layer dispute, <see cref="DisputeEvidence"/>, unchanged.
/// </para>
/// </summary>
public sealed class TokenDisputeEvidence
{
    public const byte Version = 2;
    /// <summary>"Generation ends here" in place of a token id.</summary>
    public const int End = -1;
    public const int MaxStops = 16;
    public const int MaxStopBytes = 1024;

    public required InferenceRequest Request { get; init; }
    public required Receipt AsserterReceipt { get; init; }
    public required Receipt ValidatorReceipt { get; init; }
    public required IReadOnlyList<string> Stops { get; init; }
    /// <summary>The first generated index where the two token lists differ (one may end there).</summary>
    public required int Index { get; init; }
    public required IReadOnlyList<int> AsserterTokens { get; init; }
    public required IReadOnlyList<int> ValidatorTokens { get; init; }
    public required IReadOnlyList<Hash256> AsserterStepRoots { get; init; }
    public required IReadOnlyList<Hash256> ValidatorStepRoots { get; init; }
    /// <summary>The layer hashes of step <see cref="HiddenStep"/>, agreed by both (empty when a side has no such step).</summary>
    public required IReadOnlyList<Hash256> StepLayers { get; init; }
    /// <summary>The last layer's output at <see cref="HiddenStep"/> (empty: none supplied).</summary>
    public required float[] Hidden { get; init; }
    public required int Expected { get; init; }
    public required Verdict Verdict { get; init; }

    /// <summary>The step whose output gives the logits of token <see cref="Index"/>.</summary>
    public int HiddenStep => Request.PromptTokens.Count + Index - 1;
    public int AsserterClaim => Index < AsserterTokens.Count ? AsserterTokens[Index] : End;
    public int ValidatorClaim => Index < ValidatorTokens.Count ? ValidatorTokens[Index] : End;
    /// <summary>The agreed tokens generated before <see cref="Index"/>.</summary>
    public int[] AgreedTokens() => AsserterTokens.Take(Index).ToArray();

    public Hash256 Hash() => Keccak256.Hash(Encode());

    /// <summary>True iff <paramref name="bytes"/> start with this kind's domain and version (not the layer dispute's).</summary>
    public static bool IsTokenDispute(ReadOnlySpan<byte> bytes)
    {
        int n = DisputeEvidence.DomainTag.Length;
        return bytes.Length > n + 1 && bytes[0] == n && bytes.Slice(1, n).SequenceEqual(System.Text.Encoding.ASCII.GetBytes(DisputeEvidence.DomainTag)) && bytes[n + 1] == Version;
    }

    public static Verdict Decide(int expected, int asserterClaim, int validatorClaim) =>
        asserterClaim == expected ? Verdict.AsserterRight : validatorClaim == expected ? Verdict.ValidatorRight : Verdict.NeitherRight;

    /// <summary>
    /// Everything that can be checked without the model: signatures, receipts bound to the request, each side's trace and
    /// tokens bound to its receipt, <see cref="Index"/> the first token difference, no layer difference up to step
    /// <see cref="HiddenStep"/> (that would be a layer dispute), the step's layers agreed, the hidden row hashing to the
    /// agreed last layer, and the verdict given <see cref="Expected"/>. What remains is the referee (the model's head and
    /// sampler): <c>cairn verify</c>.
    /// </summary>
    public ValidationResult Check()
    {
        var r = Request.Verify();
        if (!r.IsValid) return r;
        foreach (var (name, receipt, tokens, roots) in new[]
        {
            ("asserter", AsserterReceipt, AsserterTokens, AsserterStepRoots),
            ("validator", ValidatorReceipt, ValidatorTokens, ValidatorStepRoots),
        })
        {
            r = receipt.Verify(Request);
            if (!r.IsValid) return ValidationResult.Fail(r.Code!, $"{name}: {r.Message}");
            if (receipt.CompletionTokens != tokens.Count) return Fail($"the {name}'s receipt counts {receipt.CompletionTokens} tokens, the evidence has {tokens.Count}");
            if (TraceMerkle.Root(roots) != receipt.TraceRoot) return Fail($"the {name}'s step roots do not hash to its receipt's trace root");
            if (DisputeEvidence.OutputCommitment(tokens, receipt.TraceRoot) != receipt.OutputCommitment) return Fail($"the {name}'s tokens and trace root do not give its receipt's output commitment");
        }
        if (Stops.Count > MaxStops) return Fail($"{Stops.Count} stop strings; at most {MaxStops}");
        int first = FirstTokenDifference(AsserterTokens, ValidatorTokens) ?? -1;
        if (first != Index) return Fail($"the first differing token is at {first}, not {Index}");
        int s = HiddenStep;
        int aSteps = AsserterStepRoots.Count, vSteps = ValidatorStepRoots.Count;
        if (Bisection.FirstDifferingStep(AsserterStepRoots, ValidatorStepRoots) is int step && step <= s && step < aSteps && step < vSteps)
            return Fail($"the traces differ at step {step}, before the sampling step {s}: a layer dispute");
        bool both = s < aSteps && s < vSteps;
        if (both ? TraceMerkle.Root(StepLayers) != AsserterStepRoots[s] : StepLayers.Count != 0)
            return Fail($"the layer hashes of step {s} are not the agreed ones");
        if (Hidden.Length > 0)
        {
            if (!both || StepLayers.Count == 0) return Fail($"a hidden row is supplied but step {s} is not agreed by both traces");
            if (new Hash256(SHA256.HashData(DisputeEvidence.CanonicalBytes(Hidden))) != StepLayers[^1])
                return Fail($"the hidden row does not hash to the agreed output of the last layer at step {s}");
        }
        if (Expected < End) return Fail($"expected token {Expected} is not a token id or end");
        var expected = Decide(Expected, AsserterClaim, ValidatorClaim);
        if (expected != Verdict) return Fail($"the expected continuation gives verdict {expected}, the evidence says {Verdict}");
        return ValidationResult.Ok;
    }

    /// <summary>The first index where the lists differ, a list that ended counting as different; null if equal.</summary>
    public static int? FirstTokenDifference(IReadOnlyList<int> a, IReadOnlyList<int> b)
    {
        int n = Math.Min(a.Count, b.Count);
        for (int i = 0; i < n; i++) if (a[i] != b[i]) return i;
        return a.Count == b.Count ? null : n;
    }

    private static ValidationResult Fail(string message) => ValidationResult.Fail(DisputeEvidence.EvidenceMismatch, "TokenDisputeEvidence: " + message);

    public byte[] Encode()
    {
        var w = new CanonicalWriter(4096);
        w.WriteDomain(DisputeEvidence.DomainTag, Version);
        w.WriteBytes(Request.Encode(), int.MaxValue, "request");
        w.WriteBytes(AsserterReceipt.Encode(), int.MaxValue, "asserter_receipt");
        w.WriteBytes(ValidatorReceipt.Encode(), int.MaxValue, "validator_receipt");
        w.WriteCount(Stops.Count, "stops");
        foreach (string stop in Stops) w.WriteString(stop, MaxStopBytes, "stop");
        w.WriteCount(Index, "index");
        EvidenceCoding.WriteIds(w, AsserterTokens);
        EvidenceCoding.WriteIds(w, ValidatorTokens);
        EvidenceCoding.WriteHashes(w, AsserterStepRoots);
        EvidenceCoding.WriteHashes(w, ValidatorStepRoots);
        EvidenceCoding.WriteHashes(w, StepLayers);
        w.WriteCount(Hidden.Length, "hidden");
        foreach (float f in Hidden) w.WriteF32(f);
        w.WriteU32((uint)Expected);
        w.WriteU8((byte)Verdict);
        return w.ToArray();
    }

    public static TokenDisputeEvidence Decode(ReadOnlySpan<byte> bytes)
    {
        var r = new CanonicalReader(bytes, "TokenDisputeEvidence");
        r.ReadDomain(DisputeEvidence.DomainTag, Version);
        var request = InferenceRequest.Decode(r.ReadBytes("request", int.MaxValue));
        var asserter = Receipt.Decode(r.ReadBytes("asserter_receipt", int.MaxValue));
        var validator = Receipt.Decode(r.ReadBytes("validator_receipt", int.MaxValue));
        int stopCount = r.ReadCount("stops", MaxStops, 4);
        var stops = new string[stopCount];
        for (int i = 0; i < stopCount; i++) stops[i] = r.ReadString("stop", MaxStopBytes);
        int index = r.ReadInt("index", DisputeEvidence.MaxSteps);
        var aTokens = EvidenceCoding.ReadIds(ref r, "asserter_tokens");
        var vTokens = EvidenceCoding.ReadIds(ref r, "validator_tokens");
        var aRoots = EvidenceCoding.ReadHashes(ref r, "asserter_step_roots", DisputeEvidence.MaxSteps);
        var vRoots = EvidenceCoding.ReadHashes(ref r, "validator_step_roots", DisputeEvidence.MaxSteps);
        var layers = EvidenceCoding.ReadHashes(ref r, "step_layers", DisputeEvidence.MaxLayers);
        int width = r.ReadCount("hidden", DisputeEvidence.MaxWidth, 4);
        var hidden = new float[width];
        for (int i = 0; i < width; i++) hidden[i] = r.ReadF32("hidden");
        int expected = unchecked((int)r.ReadU32("expected"));
        if (expected < End) r.Fail(ProtocolErrors.Malformed, $"expected token {expected} is not a token id or -1");
        byte verdict = r.ReadU8("verdict");
        if (verdict is < 1 or > 3) r.Fail(ProtocolErrors.Malformed, $"verdict {verdict} is not 1, 2 or 3");
        r.End();
        return new TokenDisputeEvidence
        {
            Request = request,
            AsserterReceipt = asserter,
            ValidatorReceipt = validator,
            Stops = stops,
            Index = index,
            AsserterTokens = aTokens,
            ValidatorTokens = vTokens,
            AsserterStepRoots = aRoots,
            ValidatorStepRoots = vRoots,
            StepLayers = layers,
            Hidden = hidden,
            Expected = expected,
            Verdict = (Verdict)verdict,
        };
    }
}
