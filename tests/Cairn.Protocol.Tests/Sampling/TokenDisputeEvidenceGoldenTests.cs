using Cairn.Protocol.Crypto;
using Cairn.Protocol.Encoding;
using Cairn.Protocol.Sampling;
using Cairn.Protocol.Tests.TestSupport;

namespace Cairn.Protocol.Tests.Sampling;

public class TokenDisputeEvidenceGoldenTests
{
    private static Hash256 H(byte b) => new(Enumerable.Repeat(b, 32).ToArray());

    /// <summary>A fixed sampling-dispute evidence (not self-consistent: it pins the encoding only).</summary>
    public static TokenDisputeEvidence Golden() => new()
    {
        Request = GoldenMessages.Request(),
        AsserterReceipt = GoldenMessages.Receipt(),
        ValidatorReceipt = GoldenMessages.Receipt(),
        Stops = ["</s>", "\n\n"],
        Index = 1,
        AsserterTokens = [5, 6],
        ValidatorTokens = [5],
        AsserterStepRoots = [H(1), H(2)],
        ValidatorStepRoots = [H(1)],
        StepLayers = [H(4), H(5)],
        Hidden = [1f, -0f, float.NaN],
        Expected = TokenDisputeEvidence.End,
        Verdict = Verdict.ValidatorRight,
    };

    [Fact]
    public void Encoding_is_frozen_and_round_trips()
    {
        var bytes = Golden().Encode();
        Assert.Equal("0d" + Convert.ToHexStringLower("cairn.dispute"u8) + "02", Convert.ToHexStringLower(bytes[..15]));
        Assert.Equal("1008", bytes.Length.ToString());
        Assert.Equal("dc7692921fd72280102fb258ac3574cc66dea257ca9edae1bf95ac9294fc90a3", Keccak256.Hash(bytes).ToString());
        var decoded = TokenDisputeEvidence.Decode(bytes);
        Assert.Equal(bytes, decoded.Encode());
        Assert.Equal((TokenDisputeEvidence.End, Verdict.ValidatorRight, 1), (decoded.Expected, decoded.Verdict, decoded.Index));
        Assert.Equal(["</s>", "\n\n"], decoded.Stops);
        Assert.True(float.IsNaN(decoded.Hidden[2]));
        Assert.True(TokenDisputeEvidence.IsTokenDispute(bytes));
        Assert.False(TokenDisputeEvidence.IsTokenDispute(DisputeEvidenceGoldenTests.Golden().Encode()));
    }

    [Fact]
    public void The_layer_evidence_reader_refuses_the_token_kind_and_bad_values_are_refused()
    {
        var bytes = Golden().Encode();
        var e = Assert.Throws<CanonicalFormatException>(() => DisputeEvidence.Decode(bytes));
        Assert.Contains("version 2", e.Message);
        Assert.Throws<CanonicalFormatException>(() => TokenDisputeEvidence.Decode(DisputeEvidenceGoldenTests.Golden().Encode()));
        var badVerdict = (byte[])bytes.Clone();
        badVerdict[^1] = 0;
        Assert.Throws<CanonicalFormatException>(() => TokenDisputeEvidence.Decode(badVerdict));
        var badExpected = (byte[])bytes.Clone();
        badExpected[^2] = 0xFE; // expected = -2
        Assert.Throws<CanonicalFormatException>(() => TokenDisputeEvidence.Decode(badExpected));
        Assert.Throws<CanonicalFormatException>(() => TokenDisputeEvidence.Decode([.. bytes, 0]));
        Assert.Throws<CanonicalFormatException>(() => TokenDisputeEvidence.Decode(bytes[..^1]));
    }

    [Fact]
    public void Golden_evidence_fails_its_own_check()
    {
        Assert.False(Golden().Check().IsValid);
    }
}
