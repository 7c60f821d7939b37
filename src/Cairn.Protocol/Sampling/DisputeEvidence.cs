using System.Buffers.Binary;
using System.Security.Cryptography;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Encoding;
using Cairn.Protocol.Messages;
using Cairn.Protocol.Validation;

namespace Cairn.Protocol.Sampling;

/// <summary>Who the referee sided with.</summary>
public enum Verdict : byte
{
    /// <summary>The asserter's hash equals the recomputed one: the validator is slashed.</summary>
    AsserterRight = 1,
    /// <summary>The validator's hash equals the recomputed one: the asserter is slashed.</summary>
    ValidatorRight = 2,
    /// <summary>Neither equals it: both are slashed.</summary>
    NeitherRight = 3,
}

/// <summary>
/// The record of a settled dispute (DESIGN.md §4.4), canonical so that the ledger stores it and anyone re-checks it:
/// the request, both signed receipts, each side's generated tokens and step roots (which must hash to its receipt's
/// output commitment and trace root), the layer hashes of the agreed steps 0..t−1 (equal for both), each side's layer
/// hashes at step t, the disputed (t, l), the agreed inputs of layer l at positions 0..t (the outputs of layer l−1; none
/// for l = 0), their hash, the recomputed hash and the verdict.
/// <para>
/// Encoding, all integers little-endian: <c>domain("cairn.dispute", 1)</c> ‖ bytes request (signed encoding) ‖ bytes
/// asserter receipt ‖ bytes validator receipt ‖ u32 step ‖ u32 layer ‖ ids asserter tokens ‖ ids validator tokens ‖
/// hashes asserter step roots ‖ hashes validator step roots ‖ u32 t ‖ t × hashes agreed layer hashes ‖ hashes asserter
/// step-t layers ‖ hashes validator step-t layers ‖ u32 rows ‖ rows × (u32 width ‖ width × f32) inputs ‖ hash inputs
/// hash ‖ hash recomputed ‖ u8 verdict. "ids" and "hashes" are a u32 count then the elements (i32 / 32 bytes).
/// </para>
/// </summary>
public sealed class DisputeEvidence
{
    public const string DomainTag = "cairn.dispute";
    public const byte Version = 1;
    /// <summary>Error code of a check that fails (alongside <see cref="ProtocolErrors"/>).</summary>
    public const string EvidenceMismatch = "evidence_mismatch";
    public const int MaxSteps = 1 << 20;
    public const int MaxLayers = 4096;
    public const int MaxWidth = 1 << 16;

    public required InferenceRequest Request { get; init; }
    public required Receipt AsserterReceipt { get; init; }
    public required Receipt ValidatorReceipt { get; init; }
    public required int Step { get; init; }
    public required int Layer { get; init; }
    public required IReadOnlyList<int> AsserterTokens { get; init; }
    public required IReadOnlyList<int> ValidatorTokens { get; init; }
    public required IReadOnlyList<Hash256> AsserterStepRoots { get; init; }
    public required IReadOnlyList<Hash256> ValidatorStepRoots { get; init; }
    /// <summary>[step][layer] for steps 0..Step−1, agreed by both.</summary>
    public required IReadOnlyList<IReadOnlyList<Hash256>> AgreedLayerHashes { get; init; }
    /// <summary>The asserter's layer hashes at Step (empty if its trace has no such step).</summary>
    public required IReadOnlyList<Hash256> AsserterStepLayers { get; init; }
    public required IReadOnlyList<Hash256> ValidatorStepLayers { get; init; }
    /// <summary>Outputs of layer Layer−1 at positions 0..Step (empty for Layer 0).</summary>
    public required IReadOnlyList<float[]> Inputs { get; init; }
    /// <summary>SHA-256 over the inputs' canonical fp32 bytes, rows in order (NaNs as 0x7FC00000).</summary>
    public required Hash256 InputsHash { get; init; }
    public required Hash256 RecomputedHash { get; init; }
    public required Verdict Verdict { get; init; }

    /// <summary>Token ids fed at positions 0..Step: the prompt, then the (agreed) generated tokens.</summary>
    public int[] FedTokens() => [.. Request.PromptTokens, .. AsserterTokens.Take(Math.Max(0, Step + 1 - Request.PromptTokens.Count))];

    /// <summary>The agreed hashes of layer Layer−1 at positions 0..Step (what the inputs must hash to).</summary>
    public Hash256[] AgreedInputHashes() => Layer == 0 ? [] : [.. AgreedLayerHashes.Select(s => s[Layer - 1]), AsserterStepLayers[Layer - 1]];

    public Hash256 Hash() => Keccak256.Hash(Encode());

    /// <summary>The verdict that follows from the recomputed hash and each side's claim at (Step, Layer).</summary>
    public static Verdict Decide(Hash256 recomputed, Hash256? asserterClaim, Hash256? validatorClaim) =>
        asserterClaim == recomputed ? Verdict.AsserterRight : validatorClaim == recomputed ? Verdict.ValidatorRight : Verdict.NeitherRight;

    public Hash256? AsserterClaim => Layer < AsserterStepLayers.Count ? AsserterStepLayers[Layer] : null;
    public Hash256? ValidatorClaim => Layer < ValidatorStepLayers.Count ? ValidatorStepLayers[Layer] : null;

    /// <summary>
    /// Everything that can be checked without the model: signatures, receipts bound to the request, the revealed traces
    /// bound to the receipts, (Step, Layer) the first difference, the inputs' hash, and the verdict given the recomputed
    /// hash. What remains is to recompute the layer (Cairn.Engine.Verification.Referee; <c>cairn verify</c>).
    /// </summary>
    public ValidationResult Check()
    {
        var r = Request.Verify();
        if (!r.IsValid) return r;
        foreach (var (name, receipt, tokens, roots, stepLayers) in new[]
        {
            ("asserter", AsserterReceipt, AsserterTokens, AsserterStepRoots, AsserterStepLayers),
            ("validator", ValidatorReceipt, ValidatorTokens, ValidatorStepRoots, ValidatorStepLayers),
        })
        {
            r = receipt.Verify(Request);
            if (!r.IsValid) return ValidationResult.Fail(r.Code!, $"{name}: {r.Message}");
            if (receipt.CompletionTokens != tokens.Count) return Fail($"the {name}'s receipt counts {receipt.CompletionTokens} tokens, the evidence has {tokens.Count}");
            if (TraceMerkle.Root(roots) != receipt.TraceRoot) return Fail($"the {name}'s step roots do not hash to its receipt's trace root");
            if (OutputCommitment(tokens, receipt.TraceRoot) != receipt.OutputCommitment) return Fail($"the {name}'s tokens and trace root do not give its receipt's output commitment");
            if (Step < roots.Count ? TraceMerkle.Root(stepLayers) != roots[Step] : stepLayers.Count != 0)
                return Fail($"the {name}'s layer hashes of step {Step} do not hash to its step root");
        }
        if (AgreedLayerHashes.Count != Step) return Fail($"the agreed layer hashes cover {AgreedLayerHashes.Count} steps, not {Step}");
        for (int s = 0; s < Step; s++)
        {
            var root = TraceMerkle.Root(AgreedLayerHashes[s]);
            if (s >= AsserterStepRoots.Count || s >= ValidatorStepRoots.Count || root != AsserterStepRoots[s] || root != ValidatorStepRoots[s])
                return Fail($"step {s} is not agreed by both traces");
        }
        var first = Bisection.FirstDifferingStep(AsserterStepRoots, ValidatorStepRoots);
        if (first != Step) return Fail($"the first differing step is {first?.ToString() ?? "none"}, not {Step}");
        int firstLayer = Step < AsserterStepRoots.Count && Step < ValidatorStepRoots.Count
            ? Bisection.FirstDifferingLayer(AsserterStepLayers, ValidatorStepLayers) ?? -1 : 0;
        if (firstLayer != Layer) return Fail($"the first differing layer of step {Step} is {firstLayer}, not {Layer}");
        int prompt = Request.PromptTokens.Count;
        for (int p = prompt; p <= Step; p++)
        {
            int i = p - prompt;
            if (i >= AsserterTokens.Count || i >= ValidatorTokens.Count || AsserterTokens[i] != ValidatorTokens[i])
                return Fail($"the two sides fed different tokens at position {p}: a sampling dispute, which a one-layer referee does not settle");
        }
        if (Layer > 0 && Layer > AsserterStepLayers.Count) return Fail($"layer {Layer} has no agreed input layer");
        int rows = Layer == 0 ? 0 : Step + 1;
        if (Inputs.Count != rows) return Fail($"{Inputs.Count} input rows; layer {Layer} at step {Step} needs {rows}");
        if (InputsHashOf(Inputs) != InputsHash) return Fail("the inputs do not hash to the inputs hash");
        var agreed = AgreedInputHashes();
        for (int i = 0; i < rows; i++)
        {
            if (new Hash256(SHA256.HashData(CanonicalBytes(Inputs[i]))) != agreed[i]) return Fail($"input row {i} does not hash to the agreed output of layer {Layer - 1} at position {i}");
        }
        var expected = Decide(RecomputedHash, AsserterClaim, ValidatorClaim);
        if (expected != Verdict) return Fail($"the recomputed hash gives verdict {expected}, the evidence says {Verdict}");
        return ValidationResult.Ok;
    }

    private static ValidationResult Fail(string message) => ValidationResult.Fail(EvidenceMismatch, "DisputeEvidence: " + message);

    /// <summary>SHA-256(u32 count ‖ i32 ids ‖ trace root): the engine's output commitment (DESIGN.md §3 rule 7).</summary>
    public static Hash256 OutputCommitment(IReadOnlyList<int> tokens, Hash256 traceRoot)
    {
        var buffer = new byte[4 + 4 * tokens.Count + Hash256.Size];
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)tokens.Count);
        for (int i = 0; i < tokens.Count; i++) BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(4 + 4 * i), tokens[i]);
        traceRoot.CopyTo(buffer.AsSpan(4 + 4 * tokens.Count));
        return new Hash256(SHA256.HashData(buffer));
    }

    /// <summary>Little-endian fp32 with every NaN as 0x7FC00000 (the engine's CanonicalFloats).</summary>
    public static byte[] CanonicalBytes(ReadOnlySpan<float> row)
    {
        var bytes = new byte[4 * row.Length];
        for (int i = 0; i < row.Length; i++)
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4 * i), float.IsNaN(row[i]) ? 0x7FC00000u : BitConverter.SingleToUInt32Bits(row[i]));
        return bytes;
    }

    public static Hash256 InputsHashOf(IReadOnlyList<float[]> rows)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var row in rows) h.AppendData(CanonicalBytes(row));
        return new Hash256(h.GetHashAndReset());
    }

    public byte[] Encode()
    {
        var w = new CanonicalWriter(4096);
        w.WriteDomain(DomainTag, Version);
        w.WriteBytes(Request.Encode(), int.MaxValue, "request");
        w.WriteBytes(AsserterReceipt.Encode(), int.MaxValue, "asserter_receipt");
        w.WriteBytes(ValidatorReceipt.Encode(), int.MaxValue, "validator_receipt");
        w.WriteCount(Step, "step");
        w.WriteCount(Layer, "layer");
        EvidenceCoding.WriteIds(w, AsserterTokens);
        EvidenceCoding.WriteIds(w, ValidatorTokens);
        EvidenceCoding.WriteHashes(w, AsserterStepRoots);
        EvidenceCoding.WriteHashes(w, ValidatorStepRoots);
        w.WriteCount(AgreedLayerHashes.Count, "agreed_steps");
        foreach (var s in AgreedLayerHashes) EvidenceCoding.WriteHashes(w, s);
        EvidenceCoding.WriteHashes(w, AsserterStepLayers);
        EvidenceCoding.WriteHashes(w, ValidatorStepLayers);
        w.WriteCount(Inputs.Count, "inputs");
        foreach (var row in Inputs)
        {
            w.WriteCount(row.Length, "input_width");
            foreach (var f in row) w.WriteF32(f);
        }
        w.WriteHash(InputsHash);
        w.WriteHash(RecomputedHash);
        w.WriteU8((byte)Verdict);
        return w.ToArray();
    }

    public static DisputeEvidence Decode(ReadOnlySpan<byte> bytes)
    {
        var r = new CanonicalReader(bytes, "DisputeEvidence");
        r.ReadDomain(DomainTag, Version);
        var request = InferenceRequest.Decode(r.ReadBytes("request", int.MaxValue));
        var asserter = Receipt.Decode(r.ReadBytes("asserter_receipt", int.MaxValue));
        var validator = Receipt.Decode(r.ReadBytes("validator_receipt", int.MaxValue));
        int step = r.ReadInt("step", MaxSteps);
        int layer = r.ReadInt("layer", MaxLayers);
        var aTokens = EvidenceCoding.ReadIds(ref r, "asserter_tokens");
        var vTokens = EvidenceCoding.ReadIds(ref r, "validator_tokens");
        var aRoots = EvidenceCoding.ReadHashes(ref r, "asserter_step_roots", MaxSteps);
        var vRoots = EvidenceCoding.ReadHashes(ref r, "validator_step_roots", MaxSteps);
        int agreedSteps = r.ReadCount("agreed_steps", MaxSteps, 4);
        var agreed = new IReadOnlyList<Hash256>[agreedSteps];
        for (int i = 0; i < agreedSteps; i++) agreed[i] = EvidenceCoding.ReadHashes(ref r, "agreed_layer_hashes", MaxLayers);
        var aLayers = EvidenceCoding.ReadHashes(ref r, "asserter_step_layers", MaxLayers);
        var vLayers = EvidenceCoding.ReadHashes(ref r, "validator_step_layers", MaxLayers);
        int rows = r.ReadCount("inputs", MaxSteps, 4);
        var inputs = new float[rows][];
        for (int i = 0; i < rows; i++)
        {
            int width = r.ReadCount("input_width", MaxWidth, 4);
            inputs[i] = new float[width];
            for (int j = 0; j < width; j++) inputs[i][j] = r.ReadF32("input");
        }
        var inputsHash = r.ReadHash("inputs_hash");
        var recomputed = r.ReadHash("recomputed_hash");
        byte verdict = r.ReadU8("verdict");
        if (verdict is < 1 or > 3) r.Fail(ProtocolErrors.Malformed, $"verdict {verdict} is not 1, 2 or 3");
        r.End();
        return new DisputeEvidence
        {
            Request = request,
            AsserterReceipt = asserter,
            ValidatorReceipt = validator,
            Step = step,
            Layer = layer,
            AsserterTokens = aTokens,
            ValidatorTokens = vTokens,
            AsserterStepRoots = aRoots,
            ValidatorStepRoots = vRoots,
            AgreedLayerHashes = agreed,
            AsserterStepLayers = aLayers,
            ValidatorStepLayers = vLayers,
            Inputs = inputs,
            InputsHash = inputsHash,
            RecomputedHash = recomputed,
            Verdict = (Verdict)verdict,
        };
    }
}
