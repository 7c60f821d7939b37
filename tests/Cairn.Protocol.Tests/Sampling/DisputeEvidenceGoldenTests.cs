using Cairn.Protocol.Crypto;
using Cairn.Protocol.Sampling;
using Cairn.Protocol.Tests.TestSupport;

namespace Cairn.Protocol.Tests.Sampling;

public class DisputeEvidenceGoldenTests
{
    private static Hash256 H(byte b) => new(Enumerable.Repeat(b, 32).ToArray());

    /// <summary>A fixed evidence (not self-consistent: it pins the encoding only).</summary>
    public static DisputeEvidence Golden() => new()
    {
        Request = GoldenMessages.Request(),
        AsserterReceipt = GoldenMessages.Receipt(),
        ValidatorReceipt = GoldenMessages.Receipt(),
        Step = 1,
        Layer = 1,
        AsserterTokens = [5, 6],
        ValidatorTokens = [5, 7],
        AsserterStepRoots = [H(1), H(2)],
        ValidatorStepRoots = [H(1), H(3)],
        AgreedLayerHashes = [[H(4), H(5)]],
        AsserterStepLayers = [H(6), H(7)],
        ValidatorStepLayers = [H(6), H(8)],
        Inputs = [[1f, -0f], [float.NaN, 2.5f]],
        InputsHash = DisputeEvidence.InputsHashOf([[1f, -0f], [float.NaN, 2.5f]]),
        RecomputedHash = H(8),
        Verdict = Verdict.ValidatorRight,
    };

    [Fact]
    public void Encoding_is_frozen_and_round_trips()
    {
        var bytes = Golden().Encode();
        Assert.Equal("1242", bytes.Length.ToString());
        var hash = Keccak256.Hash(bytes).ToString();
        Assert.Equal("26da5f8bf4433d60a630894e5e1ab4680caf164dd61c28013464f9b3cbade1d0", hash);
        Assert.Equal("0d" + Convert.ToHexStringLower("cairn.dispute"u8) + "01", Convert.ToHexStringLower(bytes[..15]));
        var decoded = DisputeEvidence.Decode(bytes);
        Assert.Equal(bytes, decoded.Encode());
        Assert.Equal(Verdict.ValidatorRight, decoded.Verdict);
        Assert.True(float.IsNaN(decoded.Inputs[1][0]));
        Assert.Equal(BitConverter.SingleToUInt32Bits(-0f), BitConverter.SingleToUInt32Bits(decoded.Inputs[0][1]));
    }

    [Fact]
    public void Bad_verdict_and_trailing_bytes_are_refused()
    {
        var bytes = Golden().Encode();
        var badVerdict = (byte[])bytes.Clone();
        badVerdict[^1] = 9;
        Assert.Throws<Cairn.Protocol.Encoding.CanonicalFormatException>(() => DisputeEvidence.Decode(badVerdict));
        Assert.Throws<Cairn.Protocol.Encoding.CanonicalFormatException>(() => DisputeEvidence.Decode([.. bytes, 0]));
        Assert.Throws<Cairn.Protocol.Encoding.CanonicalFormatException>(() => DisputeEvidence.Decode(bytes[..^1]));
    }

    [Fact]
    public void Golden_evidence_fails_its_own_check()
    {
        var r = Golden().Check();
        Assert.False(r.IsValid);
    }
}
