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
    public const string GoldenTokenHash = "898bc917778842c66819dc9934a3474b2d2be8dd2c00b37641aafc7fd38e9c16";
    public const string GoldenHash = "e5f0c5e9cf3bc71c00cbfb5ff32683e8cc3ffea1dbfa18514f5c376401ae3955";

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
            RequestHash = request.Hash(),
            ModelHash = request.ModelHash,
            FirstLayer = first,
            EndLayer = end,
            LayerCount = 2,
            Steps = 5,
            PartRoot = StagePart.RootOf(trace, first, end),
            Tokens = t,
            Provider = key.Address,
        }.Sign(key);
        var receipt = new Receipt
        {
            RequestHash = request.Hash(),
            OutputCommitment = DisputeEvidence.OutputCommitment(tokens, root),
            TraceRoot = root,
            PromptTokens = 4,
            CompletionTokens = 2,
            Price = 60,
            Provider = k4.Address,
            EngineBuild = "cairn-engine/0.1 cpu-f32kv",
        }.Sign(k4);
        float[][] inputs = [Row(0), Row(1)];
        var e = new StageDisputeEvidence
        {
            Request = request,
            Receipt = receipt,
            Parts = [Part(k2, 0, 1, []), Part(k3, 1, 2, tokens)],
            Tokens = tokens,
            LayerHashes = trace,
            Step = 1,
            Layer = 1,
            Inputs = inputs,
            InputsHash = DisputeEvidence.InputsHashOf(inputs),
            RecomputedHash = new Hash256(Enumerable.Repeat((byte)0x77, 32).ToArray()),
        };
        return edit is null ? e : edit(e);
    }

    private static StageDisputeEvidence With(StageDisputeEvidence e, IReadOnlyList<StagePart>? parts = null, IReadOnlyList<IReadOnlyList<Hash256>>? trace = null,
        int? step = null, int? layer = null, IReadOnlyList<float[]>? inputs = null, Hash256? recomputed = null, int? index = null, int? expected = null,
        StageDisputeKind? kind = null) => new()
        {
            Kind = kind ?? e.Kind,
            Stops = e.Stops,
            Index = index ?? e.Index,
            Expected = expected ?? e.Expected,
            Request = e.Request,
            Receipt = e.Receipt,
            Parts = parts ?? e.Parts,
            Tokens = e.Tokens,
            LayerHashes = trace ?? e.LayerHashes,
            Step = step ?? e.Step,
            Layer = layer ?? e.Layer,
            Inputs = inputs ?? e.Inputs,
            InputsHash = inputs is null ? e.InputsHash : DisputeEvidence.InputsHashOf(inputs),
            RecomputedHash = recomputed ?? e.RecomputedHash,
        };

    [Fact]
    public void The_golden_evidence_is_frozen_checks_and_round_trips()
    {
        var e = Golden();
        var bytes = e.Encode();
        Assert.Equal(GoldenHash, Keccak256.Hash(bytes).ToString());
        Assert.Equal("13" + Convert.ToHexStringLower("cairn.stage-dispute"u8) + "01" + "01", Convert.ToHexStringLower(bytes[..22]));
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

    /// <summary>The same case as a sampling fault of the last stage at index 1 (token 9 signed, 8 expected), hidden row of step 4.</summary>
    public static StageDisputeEvidence GoldenToken()
    {
        var e = Golden();
        float[] hidden = [4f, 0.25f, 1f, -2f];
        var trace = e.LayerHashes.Select(s => (IReadOnlyList<Hash256>)s.ToArray()).ToArray();
        ((Hash256[])trace[4])[1] = RowHash(hidden);
        var root = TraceMerkle.Root([.. trace.Select(TraceMerkle.Root)]);
        using var k2 = Key(2);
        using var k3 = Key(3);
        using var k4 = Key(4);
        StagePart Resign(StagePart p, Secp256k1Key key) => new StagePart
        {
            RequestHash = p.RequestHash,
            ModelHash = p.ModelHash,
            FirstLayer = p.FirstLayer,
            EndLayer = p.EndLayer,
            LayerCount = p.LayerCount,
            Steps = p.Steps,
            PartRoot = StagePart.RootOf(trace, p.FirstLayer, p.EndLayer),
            Tokens = p.Tokens,
            Provider = p.Provider,
        }.Sign(key);
        var r = e.Receipt;
        var receipt = new Receipt
        {
            RequestHash = r.RequestHash,
            OutputCommitment = DisputeEvidence.OutputCommitment(e.Tokens, root),
            TraceRoot = root,
            PromptTokens = r.PromptTokens,
            CompletionTokens = r.CompletionTokens,
            Price = r.Price,
            Provider = r.Provider,
            EngineBuild = r.EngineBuild,
        }.Sign(k4);
        return new StageDisputeEvidence
        {
            Kind = StageDisputeKind.Token,
            Request = e.Request,
            Receipt = receipt,
            Parts = [Resign(e.Parts[0], k2), Resign(e.Parts[1], k3)],
            Tokens = e.Tokens,
            LayerHashes = trace,
            Step = 4,
            Layer = 1,
            Inputs = [hidden],
            InputsHash = DisputeEvidence.InputsHashOf([hidden]),
            RecomputedHash = Hash256.Zero,
            Stops = ["\n\n"],
            Index = 1,
            Expected = 8,
        };
    }

    [Fact]
    public void A_token_fault_of_the_last_stage_checks_round_trips_and_names_it()
    {
        var e = GoldenToken();
        Assert.True(e.Check().IsValid, e.Check().ToString());
        var bytes = e.Encode();
        Assert.Equal(GoldenTokenHash, Keccak256.Hash(bytes).ToString());
        var decoded = StageDisputeEvidence.Decode(bytes);
        Assert.Equal(bytes, decoded.Encode());
        Assert.Equal((StageDisputeKind.Token, 1, 9, 8, "\n\n"), (decoded.Kind, decoded.Index, decoded.Claim, decoded.Expected, decoded.Stops.Single()));
        Assert.Equal([7], decoded.AgreedTokens());
        Assert.Equal((1, Key(3).Address), (decoded.AccusedIndex(), decoded.Accused.Provider));

        // The expected continuation equals the claim: no fault. A hidden row that is not the trace's. A point that is not
        // (prompt + index − 1, last layer). An end at index 2 needs no row, and "end" as the claim there.
        Assert.False(With(e, expected: 9).Check().IsValid);
        Assert.False(With(e, inputs: [[4f, 0.25f, 1f, -3f]]).Check().IsValid);
        Assert.False(With(e, step: 3).Check().IsValid);
        Assert.False(With(e, layer: 0).Check().IsValid);
        var ended = With(e, index: 2, step: 5, inputs: [], expected: 3);
        Assert.True(ended.Check().IsValid, ended.Check().ToString());
        Assert.Equal(StageDisputeEvidence.End, ended.Claim);
        Assert.False(With(ended, expected: StageDisputeEvidence.End).Check().IsValid);
        Assert.False(With(ended, inputs: [[4f, 0.25f, 1f, -2f]]).Check().IsValid);
        // A layer dispute carries no token fields, and an unknown kind does not decode.
        Assert.False(With(Golden(), index: 1).Check().IsValid);
        var badKind = (byte[])bytes.Clone();
        badKind[21] = 3;
        Assert.Throws<CanonicalFormatException>(() => StageDisputeEvidence.Decode(badKind));
    }
}
