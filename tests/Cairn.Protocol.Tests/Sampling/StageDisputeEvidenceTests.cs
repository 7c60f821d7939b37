using System.Security.Cryptography;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Encoding;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Messages;
using Cairn.Protocol.Sampling;
using Cairn.Protocol.Tests.TestSupport;

namespace Cairn.Protocol.Tests.Sampling;

public class StageDisputeEvidenceTests
{
    // Frozen: the encoding of the fixed evidence below (a change is a version bump).
    public const string GoldenHash = "5927e9cebe89657444e75def5f4e77a3768adef816e3b0d7a925d1fd97eba199";

    private static Secp256k1Key Key(byte last) => Secp256k1Key.FromPrivateKey([.. new byte[31], last]);

    /// <summary>Row s of layer 0's output at step s: what the inputs of layer 1 hash to.</summary>
    private static float[] Row(int s) => [s, 0.5f, -0f, float.NaN];

    private static Hash256 RowHash(float[] row) => new(SHA256.HashData(DisputeEvidence.CanonicalBytes(row)));

    /// <summary>
    /// A self-consistent case: the golden request (4 prompt tokens), tokens [7, 9], 5 steps of a 2-layer model; stage 0
    /// (key 2) serves layer 0, stage 1 (key 3) layer 1 and samples; the receipt is signed by key 4 (the gateway); the
    /// dispute is at step 1, layer 1, whose recomputed hash is 77…77.
    /// </summary>
    public static StageDisputeEvidence Golden(Func<StageDisputeEvidence, StageDisputeEvidence>? edit = null)
    {
        var request = GoldenMessages.Request();
        int[] tokens = [7, 9];
        var trace = Enumerable.Range(0, 5).Select(s => (IReadOnlyList<Hash256>)[RowHash(Row(s)), new Hash256(SHA256.HashData([1, (byte)s]))]).ToArray();
        var root = TraceMerkle.Root([.. trace.Select(TraceMerkle.Root)]);
        using var k2 = Key(2);
        using var k3 = Key(3);
        using var k4 = Key(4);
        StagePart Part(Secp256k1Key key, int first, int end, int[] t) => new StagePart
        {
            RequestHash = request.Hash(), ModelHash = request.ModelHash, FirstLayer = first, EndLayer = end, LayerCount = 2, Steps = 5,
            PartRoot = StagePart.RootOf(trace, first, end), Tokens = t, Provider = key.Address,
        }.Sign(key);
        var receipt = new Receipt
        {
            RequestHash = request.Hash(), OutputCommitment = DisputeEvidence.OutputCommitment(tokens, root), TraceRoot = root, PromptTokens = 4,
            CompletionTokens = 2, Price = 60, Provider = k4.Address, EngineBuild = "cairn-engine/0.1 cpu-f32kv",
        }.Sign(k4);
        float[][] inputs = [Row(0), Row(1)];
        var e = new StageDisputeEvidence
        {
            Request = request, Receipt = receipt, Parts = [Part(k2, 0, 1, []), Part(k3, 1, 2, tokens)], Tokens = tokens, LayerHashes = trace,
            Step = 1, Layer = 1, Inputs = inputs, InputsHash = DisputeEvidence.InputsHashOf(inputs), RecomputedHash = new Hash256(Enumerable.Repeat((byte)0x77, 32).ToArray()),
        };
        return edit is null ? e : edit(e);
    }

    private static StageDisputeEvidence With(StageDisputeEvidence e, IReadOnlyList<StagePart>? parts = null, IReadOnlyList<IReadOnlyList<Hash256>>? trace = null,
        int? step = null, int? layer = null, IReadOnlyList<float[]>? inputs = null, Hash256? recomputed = null) => new()
    {
        Request = e.Request, Receipt = e.Receipt, Parts = parts ?? e.Parts, Tokens = e.Tokens, LayerHashes = trace ?? e.LayerHashes, Step = step ?? e.Step,
        Layer = layer ?? e.Layer, Inputs = inputs ?? e.Inputs, InputsHash = inputs is null ? e.InputsHash : DisputeEvidence.InputsHashOf(inputs), RecomputedHash = recomputed ?? e.RecomputedHash,
    };

    [Fact]
    public void The_golden_evidence_is_frozen_checks_and_round_trips()
    {
        var e = Golden();
        var bytes = e.Encode();
        Assert.Equal(GoldenHash, Keccak256.Hash(bytes).ToString());
        Assert.Equal("13" + Convert.ToHexStringLower("cairn.stage-dispute"u8) + "01", Convert.ToHexStringLower(bytes[..21]));
        Assert.True(StageDisputeEvidence.IsStageDispute(bytes));
        Assert.False(StageDisputeEvidence.IsStageDispute(DisputeEvidenceGoldenTests.Golden().Encode()));
        Assert.True(e.Check().IsValid, e.Check().ToString());
        var decoded = StageDisputeEvidence.Decode(bytes);
        Assert.Equal(bytes, decoded.Encode());
        Assert.True(decoded.Check().IsValid);
        Assert.Equal(1, decoded.AccusedIndex());
        Assert.Equal(Key(3).Address, decoded.Accused.Provider);
        Assert.Equal([1, 15043, 3186, 29991, 7], With(decoded, step: 4).FedTokens());
        Assert.Equal([1, 15043, 3186, 29991], decoded.FedTokens()); // the prompt always, generated tokens up to the step
    }

    [Fact]
    public void Truncated_or_trailing_bytes_are_refused()
    {
        var bytes = Golden().Encode();
        Assert.Throws<CanonicalFormatException>(() => StageDisputeEvidence.Decode([.. bytes, 0]));
        foreach (int cut in new[] { 1, 33, bytes.Length / 2, bytes.Length - 1 })
            Assert.Throws<CanonicalFormatException>(() => StageDisputeEvidence.Decode(bytes[..^cut]));
    }

    [Fact]
    public void Evidence_that_proves_no_fault_or_does_not_bind_is_refused()
    {
        var e = Golden();
        using var stranger = Key(9);
        // The recomputed hash equals the stage's: no fault.
        Assert.False(With(e, recomputed: e.LayerHashes[1][1]).Check().IsValid);
        // An input row that does not hash to the trace's output of layer 0.
        Assert.False(With(e, inputs: [Row(0), Row(5)]).Check().IsValid);
        Assert.False(With(e, inputs: [Row(0)]).Check().IsValid);
        // A trace hash changed: it no longer hashes to the receipt's trace root.
        var moved = e.LayerHashes.Select(s => (IReadOnlyList<Hash256>)s.ToArray()).ToArray();
        ((Hash256[])moved[4])[1] = Hash256.Zero;
        Assert.False(With(e, trace: moved).Check().IsValid);
        // A part re-signed by a stranger, a missing part, parts in the wrong order.
        var p = e.Parts[0];
        var forged = StagePart.Decode([.. p.EncodeBody(), .. stranger.Sign(p.Hash()).ToArray()]);
        Assert.Equal(Validation.ProtocolErrors.WrongSigner, With(e, parts: [forged, e.Parts[1]]).Check().Code);
        Assert.False(With(e, parts: [e.Parts[1]]).Check().IsValid);
        Assert.False(With(e, parts: [e.Parts[1], e.Parts[0]]).Check().IsValid);
        // A point outside the trace.
        Assert.False(With(e, step: 5).Check().IsValid);
        Assert.False(With(e, layer: 2).Check().IsValid);
    }
}
