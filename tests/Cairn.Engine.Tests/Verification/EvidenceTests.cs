using System.Security.Cryptography;
using Cairn.Cli.Commands;
using Cairn.Engine.Commitments;
using Cairn.Engine.Inference;
using Cairn.Engine.Models;
using Cairn.Engine.Tensors;
using Cairn.Engine.Tests.TestSupport;
using Cairn.Engine.Verification;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Messages;
using Cairn.Protocol.Sampling;

namespace Cairn.Engine.Tests.Verification;

public class EvidenceTests
{
    private static Secp256k1Key Key(byte b) => Secp256k1Key.FromPrivateKey(Enumerable.Repeat(b, 32).ToArray());

    internal sealed record Dispute(Transformer T, string ModelPath, DisputeEvidence Evidence, ExportedTrace Honest, ExportedTrace Cheater);

    /// <summary>The asserter skips <paramref name="layer"/> from <paramref name="step"/> on; the validator is honest.</summary>
    internal static Dispute Make(int step, int layer)
    {
        string path = SyntheticModels.Path(GgmlType.Q8_0);
        var t = new Transformer(Model.Load(path), 2);
        var (fed, result) = DisputeTests.Honest(t);
        using var client = Key(0x11);
        using var asserterKey = Key(0x22);
        using var validatorKey = Key(0x33);
        byte[] modelHash;
        using (var s = File.OpenRead(path)) modelHash = SHA256.HashData(s);
        var request = new InferenceRequest
        {
            ModelHash = new Hash256(modelHash),
            PromptTokens = result.PromptTokens,
            Seed = 5,
            MaxTokens = 10,
            Client = client.Address,
            Nonce = 1,
        }.Sign(client);
        var honest = TraceExport.Replay(t, fed);
        var cheater = DisputeTests.SkippingLayer(t, fed, step, layer);
        Receipt ReceiptFor(Secp256k1Key key, ExportedTrace trace) => new Receipt
        {
            RequestHash = request.Hash(),
            OutputCommitment = new Hash256(OutputCommitment.Compute(result.Tokens, trace.TraceRoot)),
            TraceRoot = new Hash256(trace.TraceRoot),
            PromptTokens = result.PromptTokens.Length,
            CompletionTokens = result.Tokens.Length,
            Provider = key.Address,
            EngineBuild = "test",
        }.Sign(key);
        var evidence = VerifyCommand.Build(t, request,
            ReceiptFor(asserterKey, cheater), result.Tokens, cheater,
            ReceiptFor(validatorKey, honest), result.Tokens, honest,
            l => TraceExport.Replay(t, fed, captureLayer: l)); // the honest validator supplies the inputs
        return new Dispute(t, path, evidence, honest, cheater);
    }

    [Theory]
    [InlineData(9, 1)]
    [InlineData(0, 0)]
    [InlineData(3, 2)]
    public void Evidence_of_a_cheating_asserter_names_the_validator_right_and_rechecks(int step, int layer)
    {
        var d = Make(step, layer);
        var e = d.Evidence;
        Assert.Equal((step, layer), (e.Step, e.Layer));
        Assert.Equal(Verdict.ValidatorRight, e.Verdict);
        Assert.Equal(new Hash256(d.Honest.LayerHashes[step][layer]), e.RecomputedHash);
        Assert.True(e.Check().IsValid, e.Check().ToString());
        Assert.True(VerifyCommand.Recheck(d.T, e).Result.IsValid);

        var bytes = e.Encode();
        var decoded = DisputeEvidence.Decode(bytes);
        Assert.Equal(bytes, decoded.Encode());
        Assert.True(VerifyCommand.Recheck(new Transformer(d.T.Model, 1), decoded).Result.IsValid);
    }

    [Fact]
    public void A_forged_verdict_does_not_hold()
    {
        var d = Make(9, 1);
        var e = d.Evidence;
        // the wrong verdict for the recomputed hash: fails the evidence's own check
        var flipped = Rebuild(e, verdict: Verdict.AsserterRight);
        Assert.False(flipped.Check().IsValid);
        // a consistent lie (recomputed := the cheater's claim): passes the check, fails the rerun
        var lie = Rebuild(e, verdict: Verdict.AsserterRight, recomputed: e.AsserterClaim);
        Assert.True(lie.Check().IsValid, lie.Check().ToString());
        var (result, referee) = VerifyCommand.Recheck(d.T, lie);
        Assert.False(result.IsValid);
        Assert.Equal(e.RecomputedHash, new Hash256(referee!.Hash));
        // tampered inputs
        var rows = e.Inputs.Select(r => (float[])r.Clone()).ToArray();
        rows[2][0] += 1;
        Assert.False(Rebuild(e, inputs: rows).Check().IsValid);
        // the dispute point moved
        Assert.False(Rebuild(e, layer: 2).Check().IsValid);
    }

    [Fact]
    public void Cairn_verify_exits_zero_when_the_verdict_holds_and_one_when_it_does_not()
    {
        var d = Make(9, 1);
        var good = Path.GetTempFileName();
        var bad = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(good, d.Evidence.Encode());
            File.WriteAllBytes(bad, Rebuild(d.Evidence, verdict: Verdict.AsserterRight, recomputed: d.Evidence.AsserterClaim).Encode());
            Assert.Equal(0, VerifyCommand.Create().Parse([good, "--model", d.ModelPath]).Invoke());
            Assert.Equal(1, VerifyCommand.Create().Parse([bad, "--model", d.ModelPath]).Invoke());
            Assert.Equal(2, VerifyCommand.Create().Parse([good, "--model", SyntheticModels.Path(GgmlType.F32)]).Invoke()); // another model
        }
        finally
        {
            File.Delete(good);
            File.Delete(bad);
        }
    }

    private static DisputeEvidence Rebuild(DisputeEvidence e, Verdict? verdict = null, Hash256? recomputed = null, IReadOnlyList<float[]>? inputs = null, int? layer = null) => new()
    {
        Request = e.Request,
        AsserterReceipt = e.AsserterReceipt,
        ValidatorReceipt = e.ValidatorReceipt,
        Step = e.Step,
        Layer = layer ?? e.Layer,
        AsserterTokens = e.AsserterTokens,
        ValidatorTokens = e.ValidatorTokens,
        AsserterStepRoots = e.AsserterStepRoots,
        ValidatorStepRoots = e.ValidatorStepRoots,
        AgreedLayerHashes = e.AgreedLayerHashes,
        AsserterStepLayers = e.AsserterStepLayers,
        ValidatorStepLayers = e.ValidatorStepLayers,
        Inputs = inputs ?? e.Inputs,
        InputsHash = inputs is null ? e.InputsHash : DisputeEvidence.InputsHashOf(inputs),
        RecomputedHash = recomputed ?? e.RecomputedHash,
        Verdict = verdict ?? e.Verdict,
    };
}
