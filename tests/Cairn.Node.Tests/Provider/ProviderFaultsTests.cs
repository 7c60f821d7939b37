using Cairn.Node.Provider;

namespace Cairn.Node.Tests.Provider;

public sealed class ProviderFaultsTests
{
    [Fact]
    public void No_fault_option_means_no_faults()
    {
        Assert.Equal(ProviderFaults.None, ProviderFaults.Parse(null));
        Assert.Equal(ProviderFaults.None, ProviderFaults.Parse(""));
    }

    [Fact]
    public void Faults_combine_with_commas()
    {
        var f = ProviderFaults.Parse("bad-signature, stall-after-tokens:5,claim-speed:1e9");
        Assert.True(f.BadSignature);
        Assert.Equal(5, f.StallAfterTokens);
        Assert.Equal(1e9, f.ClaimDecodeTokS);
    }

    [Theory]
    [InlineData("bad-signature:1")]
    [InlineData("stall-after-tokens")]
    [InlineData("stall-after-tokens:-1")]
    [InlineData("claim-speed:0")]
    [InlineData("claim-speed:NaN")]
    [InlineData("crash")]
    public void An_unknown_or_malformed_fault_is_refused(string spec) =>
        Assert.Throws<ArgumentException>(() => ProviderFaults.Parse(spec));

    [Fact]
    public void The_cheating_faults_parse()
    {
        var f = ProviderFaults.Parse("wrong-seed,forge-commitment");
        Assert.True(f.WrongSeed);
        Assert.True(f.ForgeCommitment);
        Assert.False(ProviderFaults.Parse("claim-speed:5").WrongSeed);
    }
}
