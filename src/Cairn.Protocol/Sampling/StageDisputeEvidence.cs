using System.Security.Cryptography;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Encoding;
using Cairn.Protocol.Messages;
using Cairn.Protocol.Validation;

namespace Cairn.Protocol.Sampling;

/// <summary>
/// The record of a dispute that names the pipeline stage at fault (docs/verification.md, "Pipelined requests"): the signed
/// request, the pipeline's receipt, every stage's signed part (<see cref="StagePart"/>), the generated tokens and the whole
/// assembled trace, then one of two kinds of fault; no other party's claim is needed for either.
/// <list type="bullet">
/// <item><see cref="StageDisputeKind.Layer"/>: the point (Step, Layer), the inputs of that layer at positions 0..Step
/// (the outputs of layer Layer−1, whose hashes the trace holds; none for layer 0) and the hash the referee recomputed from
/// them. The stage whose part covers Layer signed a hash at (Step, Layer) that does not follow from the inputs the trace
/// itself attests — its own layer Layer−1, or the previous stage's last layer, whose rows the gateway checked it was
/// handed — so it is at fault.</item>
/// <item><see cref="StageDisputeKind.Token"/>: generated index Index, Layer = the last layer, Step = prompt + Index − 1,
/// the stop strings the last stage was given, the agreed last-layer output at Step as the one input row (none when
/// Index = the number of tokens: the stage ended there and the referee replays the prefix), and the continuation
/// (<see cref="Expected"/>: a token id or −1 for "end") that the request's sampler gives. It differs from what the last
/// stage signed, so the last stage is at fault. <see cref="RecomputedHash"/> is zero.</item>
/// </list>
/// <para>
/// Encoding, all integers little-endian: <c>domain("cairn.stage-dispute", 1)</c> ‖ u8 kind ‖ bytes request (signed
/// encoding) ‖ bytes receipt ‖ u32 parts ‖ parts × bytes part (signed encoding) ‖ ids tokens ‖ u32 steps ‖ steps × hashes
/// layer hashes ‖ u32 step ‖ u32 layer ‖ u32 rows ‖ rows × (u32 width ‖ width × f32) inputs ‖ hash inputs hash ‖ hash
/// recomputed ‖ u32 stops ‖ stops × (u32 length ‖ UTF-8) ‖ u32 index ‖ i32 expected. "bytes" is a u32 length then the
/// bytes; "ids" and "hashes" a u32 count then the elements (i32 / 32 bytes).
/// </para>
/// </summary>
public sealed class StageDisputeEvidence
{
    public const string DomainTag = "cairn.stage-dispute";
    public const byte Version = 1;
    public const int MaxStages = 256;
    public const int End = TokenDisputeEvidence.End;

    public StageDisputeKind Kind { get; init; } = StageDisputeKind.Layer;

    public required InferenceRequest Request { get; init; }
    /// <summary>The pipeline's receipt (signed by the gateway that assembled it).</summary>
    public required Receipt Receipt { get; init; }
    /// <summary>Every stage's signed part, in layer order.</summary>
    public required IReadOnlyList<StagePart> Parts { get; init; }
    public required IReadOnlyList<int> Tokens { get; init; }
    /// <summary>[step][layer] over every layer of the model: the trace the stages reported.</summary>
    public required IReadOnlyList<IReadOnlyList<Hash256>> LayerHashes { get; init; }
    public required int Step { get; init; }
    public required int Layer { get; init; }
    /// <summary>Outputs of layer Layer−1 at positions 0..Step (empty for Layer 0).</summary>
    public required IReadOnlyList<float[]> Inputs { get; init; }
    public required Hash256 InputsHash { get; init; }
    public required Hash256 RecomputedHash { get; init; }
    /// <summary>Token disputes: the stop strings the last stage was given.</summary>
    public IReadOnlyList<string> Stops { get; init; } = [];
    /// <summary>Token disputes: the generated index in dispute.</summary>
    public int Index { get; init; }
    /// <summary>Token disputes: the continuation the referee gives at <see cref="Index"/> (a token id, or −1: end).</summary>
    public int Expected { get; init; }

    /// <summary>Token disputes: what the last stage signed at <see cref="Index"/> (a token, or −1: it ended there).</summary>
    public int Claim => Index < Tokens.Count ? Tokens[Index] : End;

    /// <summary>The index in <see cref="Parts"/> of the stage whose layers hold <see cref="Layer"/> (-1 if none).</summary>
    public int AccusedIndex()
    {
        for (int i = 0; i < Parts.Count; i++)
        {
            if (Layer >= Parts[i].FirstLayer && Layer < Parts[i].EndLayer) return i;
        }
        return -1;
    }

    public StagePart Accused => Parts[AccusedIndex()];

    /// <summary>Token ids fed at positions 0..Step: the prompt, then the generated tokens.</summary>
    public int[] FedTokens() => [.. Request.PromptTokens, .. Tokens.Take(Math.Max(0, Step + 1 - Request.PromptTokens.Count))];

    /// <summary>Token disputes: the generated tokens before <see cref="Index"/>, which both sides agree on.</summary>
    public int[] AgreedTokens() => [.. Tokens.Take(Index)];

    /// <summary>The trace's hashes of layer Layer−1 at positions 0..Step (what the inputs must hash to).</summary>
    public Hash256[] InputHashes() => Layer == 0 ? [] : [.. Enumerable.Range(0, Step + 1).Select(s => LayerHashes[s][Layer - 1])];

    public Hash256 Hash() => Keccak256.Hash(Encode());

    /// <summary>Whether <paramref name="bytes"/> start with this kind's domain tag.</summary>
    public static bool IsStageDispute(ReadOnlySpan<byte> bytes)
    {
        var w = new CanonicalWriter(32);
        w.WriteDomain(DomainTag, Version);
        return bytes.StartsWith(w.WrittenSpan[..^1]);
    }

    /// <summary>
    /// Everything that can be checked without the model: signatures; the receipt bound to the request, the tokens and the
    /// trace; every part bound to the trace (its layer range, steps and root) and the last part to the tokens; the parts
    /// covering the model's layers in order; then for a layer dispute the inputs hashing to the trace's outputs of layer
    /// Layer−1 and a recomputed hash that differs from the accused stage's, for a token dispute the hidden row hashing to
    /// the trace's last layer at Step and an expected continuation that differs from the last stage's. What remains is
    /// to recompute the layer or re-run the sampler (<c>cairn verify</c>).
    /// </summary>
    public ValidationResult Check()
    {
        var r = Request.Verify();
        if (!r.IsValid) return r;
        r = Receipt.Verify(Request);
        if (!r.IsValid) return ValidationResult.Fail(r.Code!, $"receipt: {r.Message}");
        if (Receipt.CompletionTokens != Tokens.Count || Tokens.Count == 0) return Fail($"the receipt counts {Receipt.CompletionTokens} tokens, the evidence has {Tokens.Count}");
        int steps = Request.PromptTokens.Count + Tokens.Count - 1;
        if (LayerHashes.Count != steps) return Fail($"the trace has {LayerHashes.Count} steps; prompt and tokens give {steps}");
        if (Parts.Count == 0) return Fail("no stage parts");
        int layers = Parts[0].LayerCount;
        if (LayerHashes.Any(s => s.Count != layers)) return Fail($"a step of the trace does not have the model's {layers} layers");
        var root = TraceMerkle.Root([.. LayerHashes.Select(TraceMerkle.Root)]);
        if (root != Receipt.TraceRoot) return Fail("the trace does not hash to the receipt's trace root");
        if (DisputeEvidence.OutputCommitment(Tokens, root) != Receipt.OutputCommitment) return Fail("the tokens and trace root do not give the receipt's output commitment");
        var requestHash = Request.Hash();
        int next = 0;
        for (int i = 0; i < Parts.Count; i++)
        {
            var p = Parts[i];
            r = p.Verify();
            if (!r.IsValid) return ValidationResult.Fail(r.Code!, $"part {i}: {r.Message}");
            if (p.RequestHash != requestHash || p.ModelHash != Request.ModelHash) return Fail($"part {i} names another request or model");
            if (p.LayerCount != layers || p.FirstLayer != next) return Fail($"part {i} covers [{p.FirstLayer}, {p.EndLayer}) of {p.LayerCount}; the parts must cover 0..{layers - 1} in order");
            if (p.Steps != steps || p.PartRoot != StagePart.RootOf(LayerHashes, p.FirstLayer, p.EndLayer)) return Fail($"part {i}'s steps or root do not match the trace");
            next = p.EndLayer;
        }
        if (next != layers) return Fail($"the parts end at layer {next}, the model has {layers}");
        if (!Parts[^1].Tokens.SequenceEqual(Tokens)) return Fail("the last stage's signed tokens are not the tokens");
        if (Kind == StageDisputeKind.Token) return CheckToken(steps, layers);
        if (Kind != StageDisputeKind.Layer) return Fail($"kind {(byte)Kind} is not 1 (layer) or 2 (token)");
        if (Stops.Count != 0 || Index != 0 || Expected != 0) return Fail("a layer dispute has no stops, index or expected token");
        if (Step < 0 || Step >= steps || Layer < 0 || Layer >= layers) return Fail($"(step {Step}, layer {Layer}) is outside the trace");
        int rows = Layer == 0 ? 0 : Step + 1;
        if (Inputs.Count != rows) return Fail($"{Inputs.Count} input rows; layer {Layer} at step {Step} needs {rows}");
        if (DisputeEvidence.InputsHashOf(Inputs) != InputsHash) return Fail("the inputs do not hash to the inputs hash");
        var expected = InputHashes();
        for (int i = 0; i < rows; i++)
        {
            if (new Hash256(SHA256.HashData(DisputeEvidence.CanonicalBytes(Inputs[i]))) != expected[i])
                return Fail($"input row {i} does not hash to the trace's output of layer {Layer - 1} at position {i}");
        }
        if (RecomputedHash == LayerHashes[Step][Layer]) return Fail($"the recomputed hash equals the stage's hash at step {Step}, layer {Layer}: no fault");
        return ValidationResult.Ok;
    }

    /// <summary>The token kind's own checks: the point, the agreed hidden row, and an expected continuation that differs from the claim.</summary>
    private ValidationResult CheckToken(int steps, int layers)
    {
        int prompt = Request.PromptTokens.Count;
        if (Index < 0 || Index > Tokens.Count) return Fail($"index {Index} is outside 0..{Tokens.Count}");
        if (Layer != layers - 1 || Step != prompt + Index - 1) return Fail($"a token dispute at index {Index} is at step {prompt + Index - 1}, layer {layers - 1}; the evidence says ({Step}, {Layer})");
        if (Stops.Count > TokenDisputeEvidence.MaxStops || Stops.Any(s => s.Length == 0)) return Fail($"{Stops.Count} stop strings; at most {TokenDisputeEvidence.MaxStops}, none empty");
        if (!RecomputedHash.IsZero) return Fail("a token dispute has no recomputed hash");
        int rows = Step < steps ? 1 : 0;
        if (Inputs.Count != rows) return Fail($"{Inputs.Count} hidden rows; index {Index} needs {rows}");
        if (DisputeEvidence.InputsHashOf(Inputs) != InputsHash) return Fail("the hidden row does not hash to the inputs hash");
        if (rows == 1 && new Hash256(SHA256.HashData(DisputeEvidence.CanonicalBytes(Inputs[0]))) != LayerHashes[Step][Layer])
            return Fail($"the hidden row does not hash to the trace's output of layer {Layer} at position {Step}");
        if (Expected < End) return Fail($"expected token {Expected} is not a token id or end");
        if (Expected == Claim) return Fail($"the expected continuation is what the last stage signed at index {Index}: no fault");
        return ValidationResult.Ok;
    }

    private static ValidationResult Fail(string message) => ValidationResult.Fail(DisputeEvidence.EvidenceMismatch, "StageDisputeEvidence: " + message);

    public byte[] Encode()
    {
        var w = new CanonicalWriter(4096);
        w.WriteDomain(DomainTag, Version);
        w.WriteU8((byte)Kind);
        w.WriteBytes(Request.Encode(), int.MaxValue, "request");
        w.WriteBytes(Receipt.Encode(), int.MaxValue, "receipt");
        w.WriteCount(Parts.Count, "parts");
        foreach (var p in Parts) w.WriteBytes(p.Encode(), int.MaxValue, "part");
        EvidenceCoding.WriteIds(w, Tokens);
        w.WriteCount(LayerHashes.Count, "steps");
        foreach (var s in LayerHashes) EvidenceCoding.WriteHashes(w, s);
        w.WriteCount(Step, "step");
        w.WriteCount(Layer, "layer");
        w.WriteCount(Inputs.Count, "inputs");
        foreach (var row in Inputs)
        {
            w.WriteCount(row.Length, "input_width");
            foreach (var f in row) w.WriteF32(f);
        }
        w.WriteHash(InputsHash);
        w.WriteHash(RecomputedHash);
        w.WriteCount(Stops.Count, "stops");
        foreach (string stop in Stops) w.WriteString(stop, TokenDisputeEvidence.MaxStopBytes, "stop");
        w.WriteCount(Index, "index");
        w.WriteU32(unchecked((uint)Expected));
        return w.ToArray();
    }

    public static StageDisputeEvidence Decode(ReadOnlySpan<byte> bytes)
    {
        var r = new CanonicalReader(bytes, "StageDisputeEvidence");
        r.ReadDomain(DomainTag, Version);
        byte kind = r.ReadU8("kind");
        if (kind is < 1 or > 2) r.Fail(ProtocolErrors.Malformed, $"kind {kind} is not 1 (layer) or 2 (token)");
        var request = InferenceRequest.Decode(r.ReadBytes("request", int.MaxValue));
        var receipt = Receipt.Decode(r.ReadBytes("receipt", int.MaxValue));
        int n = r.ReadCount("parts", MaxStages, 4);
        var parts = new StagePart[n];
        for (int i = 0; i < n; i++) parts[i] = StagePart.Decode(r.ReadBytes("part", int.MaxValue));
        var tokens = EvidenceCoding.ReadIds(ref r, "tokens");
        int steps = r.ReadCount("steps", DisputeEvidence.MaxSteps, 4);
        var trace = new IReadOnlyList<Hash256>[steps];
        for (int s = 0; s < steps; s++) trace[s] = EvidenceCoding.ReadHashes(ref r, "layer_hashes", DisputeEvidence.MaxLayers);
        int step = r.ReadInt("step", DisputeEvidence.MaxSteps);
        int layer = r.ReadInt("layer", DisputeEvidence.MaxLayers);
        int rows = r.ReadCount("inputs", DisputeEvidence.MaxSteps, 4);
        var inputs = new float[rows][];
        for (int i = 0; i < rows; i++)
        {
            int width = r.ReadCount("input_width", DisputeEvidence.MaxWidth, 4);
            inputs[i] = new float[width];
            for (int j = 0; j < width; j++) inputs[i][j] = r.ReadF32("input");
        }
        var inputsHash = r.ReadHash("inputs_hash");
        var recomputed = r.ReadHash("recomputed_hash");
        int stopCount = r.ReadCount("stops", TokenDisputeEvidence.MaxStops, 4);
        var stops = new string[stopCount];
        for (int i = 0; i < stopCount; i++) stops[i] = r.ReadString("stop", TokenDisputeEvidence.MaxStopBytes);
        int index = r.ReadInt("index", DisputeEvidence.MaxSteps);
        int expected = unchecked((int)r.ReadU32("expected"));
        if (expected < End) r.Fail(ProtocolErrors.Malformed, $"expected token {expected} is not a token id or -1");
        r.End();
        return new StageDisputeEvidence
        {
            Kind = (StageDisputeKind)kind,
            Stops = stops,
            Index = index,
            Expected = expected,
            Request = request,
            Receipt = receipt,
            Parts = parts,
            Tokens = tokens,
            LayerHashes = trace,
            Step = step,
            Layer = layer,
            Inputs = inputs,
            InputsHash = inputsHash,
            RecomputedHash = recomputed,
        };
    }
}
