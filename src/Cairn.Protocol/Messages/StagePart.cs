using Cairn.Protocol.Crypto;
using Cairn.Protocol.Encoding;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Sampling;
using Cairn.Protocol.Validation;

namespace Cairn.Protocol.Messages;

/// <summary>
/// A pipeline stage's signed part of a request's trace (docs/pipeline.md, docs/protocol.md): the stage that served layers
/// [<see cref="FirstLayer"/>, <see cref="EndLayer"/>) of the model commits to the hashes of exactly those layers at every
/// step, and the last stage also to the tokens it sampled. Canonical encoding, version 1:
/// <code>
/// u8 16 ‖ "cairn.stage-part" ‖ u8 1
/// request_hash 32   model_hash 32
/// first_layer u32   end_layer u32   layer_count u32   steps u32
/// part_root 32      (see <see cref="RootOf"/>)
/// tokens            u32 count (≤ 1,048,576) ‖ u32 id each — the last stage's sampled tokens; empty for the others
/// provider 20 bytes
/// ── end of the signed body; Hash() = Keccak-256 of the bytes above ──
/// signature         65 bytes (r ‖ s ‖ v), all zeros when unsigned
/// </code>
/// All integers little-endian. The signer must be <see cref="Provider"/>.
/// </summary>
public sealed class StagePart
{
    public const string DomainTag = "cairn.stage-part";
    public const byte Version = 1;
    /// <summary>Bounds of the decoded counts (as <see cref="DisputeEvidence"/>'s).</summary>
    public const int MaxLayers = DisputeEvidence.MaxLayers;
    public const int MaxSteps = DisputeEvidence.MaxSteps;

    public required Hash256 RequestHash { get; init; }
    public required Hash256 ModelHash { get; init; }
    public required int FirstLayer { get; init; }
    public required int EndLayer { get; init; }
    /// <summary>The model's layer count: the stage with <see cref="EndLayer"/> = LayerCount is the last, which samples.</summary>
    public required int LayerCount { get; init; }
    /// <summary>Token positions the stage computed: prompt + generated − 1 (the last token is never fed).</summary>
    public required int Steps { get; init; }
    public required Hash256 PartRoot { get; init; }
    /// <summary>The last stage: the tokens it sampled, in order; every other stage: empty.</summary>
    public IReadOnlyList<int> Tokens { get; init; } = [];
    public required Address Provider { get; init; }
    public Signature Signature { get; init; }

    public bool IsLast => EndLayer == LayerCount;

    /// <summary>
    /// The part root over a trace ([step][layer], every layer of the model): per step the Merkle root of that step's
    /// hashes of layers [first, end) in layer order, then the Merkle root of those per-step roots in step order (the
    /// Merkle rule of DESIGN.md §3 rule 7, <see cref="TraceMerkle"/>). A stage computes it over its own layers only.
    /// </summary>
    public static Hash256 RootOf(IReadOnlyList<IReadOnlyList<Hash256>> trace, int first, int end)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var roots = new Hash256[trace.Count];
        for (int s = 0; s < trace.Count; s++)
        {
            var step = trace[s];
            if (first < 0 || end > step.Count || first >= end) throw new ArgumentOutOfRangeException(nameof(first), $"layers [{first}, {end}) are not inside step {s}'s {step.Count} layers");
            var layers = new Hash256[end - first];
            for (int l = first; l < end; l++) layers[l - first] = step[l];
            roots[s] = TraceMerkle.Root(layers);
        }
        return TraceMerkle.Root(roots);
    }

    public byte[] EncodeBody()
    {
        var w = new CanonicalWriter(192 + 4 * Tokens.Count);
        WriteBody(w);
        return w.ToArray();
    }

    public byte[] Encode()
    {
        var w = new CanonicalWriter(192 + 4 * Tokens.Count + Signature.Size);
        WriteBody(w);
        w.WriteSignature(Signature);
        return w.ToArray();
    }

    public Hash256 Hash() => Keccak256.Hash(EncodeBody());

    public StagePart Sign(Secp256k1Key key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Address != Provider) throw new ArgumentException($"the stage part names provider {Provider} but the key is {key.Address}", nameof(key));
        return With(key.Sign(Hash()));
    }

    /// <summary>Checks the layer range is well formed and the signature was made by <see cref="Provider"/>.</summary>
    public ValidationResult Verify()
    {
        if (FirstLayer < 0 || FirstLayer >= EndLayer || EndLayer > LayerCount)
            return ValidationResult.Fail(ProtocolErrors.InvalidParameter, $"StagePart layers [{FirstLayer}, {EndLayer}) are not a range inside the model's {LayerCount}");
        if (!IsLast && Tokens.Count != 0) return ValidationResult.Fail(ProtocolErrors.InvalidParameter, $"StagePart of layers [{FirstLayer}, {EndLayer}) is not the last stage but names {Tokens.Count} tokens");
        return MessageSignatures.Verify("StagePart", Hash(), Signature, Provider, "provider");
    }

    public static StagePart Decode(ReadOnlySpan<byte> bytes)
    {
        var r = new CanonicalReader(bytes, "StagePart");
        r.ReadDomain(DomainTag, Version);
        var requestHash = r.ReadHash("request_hash");
        var modelHash = r.ReadHash("model_hash");
        int first = r.ReadInt("first_layer", MaxLayers);
        int end = r.ReadInt("end_layer", MaxLayers);
        int count = r.ReadInt("layer_count", MaxLayers);
        int steps = r.ReadInt("steps", MaxSteps);
        var root = r.ReadHash("part_root");
        int n = r.ReadCount("tokens", InferenceRequest.MaxPromptTokens, 4);
        var tokens = new int[n];
        for (int i = 0; i < n; i++) tokens[i] = r.ReadInt("token");
        var part = new StagePart
        {
            RequestHash = requestHash,
            ModelHash = modelHash,
            FirstLayer = first,
            EndLayer = end,
            LayerCount = count,
            Steps = steps,
            PartRoot = root,
            Tokens = tokens,
            Provider = r.ReadAddress("provider"),
            Signature = r.ReadSignature("signature"),
        };
        r.End();
        return part;
    }

    public static bool TryDecode(ReadOnlySpan<byte> bytes, out StagePart? part, out ValidationResult result) =>
        MessageDecoding.TryDecode(bytes, Decode, out part, out result);

    private void WriteBody(CanonicalWriter w)
    {
        w.WriteDomain(DomainTag, Version);
        w.WriteHash(RequestHash);
        w.WriteHash(ModelHash);
        w.WriteCount(FirstLayer, "first_layer");
        w.WriteCount(EndLayer, "end_layer");
        w.WriteCount(LayerCount, "layer_count");
        w.WriteCount(Steps, "steps");
        w.WriteHash(PartRoot);
        w.WriteCount(Tokens.Count, "tokens");
        foreach (int t in Tokens) w.WriteCount(t, "token");
        w.WriteAddress(Provider);
    }

    private StagePart With(Signature signature) => new()
    {
        RequestHash = RequestHash,
        ModelHash = ModelHash,
        FirstLayer = FirstLayer,
        EndLayer = EndLayer,
        LayerCount = LayerCount,
        Steps = Steps,
        PartRoot = PartRoot,
        Tokens = Tokens,
        Provider = Provider,
        Signature = signature,
    };
}
