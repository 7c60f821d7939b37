using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Sampling;

namespace Cairn.Protocol.Tests.Sampling;

public class ChallengeDrawTests
{
    private static byte[] Secret(byte b) => Enumerable.Repeat(b, 32).ToArray();

    private static Hash256 ReceiptHash(int i)
    {
        var bytes = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes, i);
        return Keccak256.Hash(bytes);
    }

    [Fact]
    public void Commitment_is_keccak_of_the_secret_and_the_reveal_checks_it()
    {
        var secret = Secret(7);
        var commitment = ChallengeDraw.Commit(secret);
        Assert.Equal(Keccak256.Hash(secret), commitment);
        Assert.True(ChallengeDraw.VerifyReveal(commitment, secret));
        Assert.False(ChallengeDraw.VerifyReveal(commitment, Secret(8)));
        Assert.False(ChallengeDraw.VerifyReveal(commitment, secret.AsSpan(0, 31)));
    }

    [Fact]
    public void Draw_value_is_keccak_of_secret_then_receipt_hash()
    {
        var secret = Secret(1);
        var receipt = ReceiptHash(5);
        Assert.Equal(Keccak256.Hash([.. secret, .. receipt.ToArray()]), ChallengeDraw.DrawValue(secret, receipt));
    }

    [Fact]
    public void Threshold_comparison_is_exact_at_the_boundary()
    {
        var half = new Probability(500_000); // threshold 2^255
        Assert.False(ChallengeDraw.IsBelow(Hash256.Parse("80" + new string('0', 62)), half));
        Assert.True(ChallengeDraw.IsBelow(Hash256.Parse("7f" + new string('f', 62)), half));
        Assert.False(ChallengeDraw.IsBelow(Hash256.Zero, Probability.Zero));
        Assert.True(ChallengeDraw.IsBelow(Hash256.Parse(new string('f', 64)), Probability.One));
        // 1 ppm: threshold = 2^256 / 10^6 = 0x10c6f7a0b5ed8d36b4c7f34938583621fafc8b0079a2834d26fa3fcc9ea9.8… (not an integer)
        var onePpm = new Probability(1);
        Assert.True(ChallengeDraw.IsBelow(Hash256.Parse("000010c6f7a0b5ed8d36b4c7f34938583621fafc8b0079a2834d26fa3fcc9ea9"), onePpm));
        Assert.False(ChallengeDraw.IsBelow(Hash256.Parse("000010c6f7a0b5ed8d36b4c7f34938583621fafc8b0079a2834d26fa3fcc9eaa"), onePpm));
    }

    [Theory]
    [InlineData(10_000)]
    [InlineData(50_000)]
    [InlineData(100_000)]
    public void Challenge_rate_matches_p_within_five_sigma(uint ppm)
    {
        const int receipts = 40_000;
        var secret = Secret(3);
        int challenged = 0;
        for (int i = 0; i < receipts; i++) if (ChallengeDraw.IsChallenged(secret, ReceiptHash(i), new Probability(ppm))) challenged++;
        double p = ppm / 1e6, mean = receipts * p, sigma = Math.Sqrt(receipts * p * (1 - p));
        Assert.InRange(challenged, mean - 5 * sigma, mean + 5 * sigma);
    }

    [Fact]
    public void Draw_depends_on_the_secret()
    {
        int differ = 0;
        for (int i = 0; i < 1000; i++)
            if (ChallengeDraw.IsChallenged(Secret(1), ReceiptHash(i), new Probability(500_000)) != ChallengeDraw.IsChallenged(Secret(2), ReceiptHash(i), new Probability(500_000))) differ++;
        Assert.InRange(differ, 400, 600);
    }

    [Theory]
    [InlineData("0.05", 50_000u)]
    [InlineData("5%", 50_000u)]
    [InlineData("0.0125%", 125u)]
    [InlineData("1", 1_000_000u)]
    public void Probability_parses_exactly(string text, uint ppm) => Assert.Equal(ppm, Probability.Parse(text).PartsPerMillion);

    [Theory]
    [InlineData("0.0000001")]
    [InlineData("1.5")]
    [InlineData("-0.1")]
    [InlineData("abc")]
    public void Probability_refuses_what_it_cannot_hold(string text) => Assert.Throws<FormatException>(() => Probability.Parse(text));

    [Fact]
    public void Validator_seal_binds_validator_commitment_and_salt()
    {
        var v = Address.Parse("0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF");
        var other = Address.Parse("0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F");
        var oc = ReceiptHash(1);
        var salt = Secret(9);
        var seal = ValidatorCommitment.Seal(v, oc, salt);
        Assert.Equal(Keccak256.Hash([.. v.ToArray(), .. oc.ToArray(), .. salt]), seal);
        Assert.True(ValidatorCommitment.VerifyReveal(seal, v, oc, salt));
        Assert.False(ValidatorCommitment.VerifyReveal(seal, other, oc, salt));
        Assert.False(ValidatorCommitment.VerifyReveal(seal, v, ReceiptHash(2), salt));
        Assert.False(ValidatorCommitment.VerifyReveal(seal, v, oc, Secret(10)));
    }
}
