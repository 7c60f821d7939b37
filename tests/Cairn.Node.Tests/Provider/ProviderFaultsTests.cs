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

    [Fact]
    public void The_strategies_of_issue_6_parse()
    {
        var f = ProviderFaults.Parse("substitute-model:/tmp/small.gguf,cheaper-type:q4_0,skip-layers:3,1,random-tokens,truncate:7,forge-layer-hashes:2,lazy-validator");
        Assert.Equal("/tmp/small.gguf", f.SubstituteModel);
        Assert.Equal(Cairn.Engine.Tensors.GgmlType.Q4_0, f.CheaperType);
        Assert.Equal([1, 3], f.SkipLayers);
        Assert.True(f.RandomTokens);
        Assert.Equal(7, f.TruncateAfter);
        Assert.Equal((true, 2), (f.ForgeLayerHashes, f.ForgedLayer));
        Assert.True(f.LazyValidator);
        Assert.Equal((true, (int?)null), (ProviderFaults.Parse("forge-layer-hashes").ForgeLayerHashes, ProviderFaults.Parse("forge-layer-hashes").ForgedLayer));
        var cartel = ProviderFaults.Parse("wrong-seed,collude:/tmp/cartel");
        Assert.Equal(("/tmp/cartel", true), (cartel.CollusionDirectory, cartel.WrongSeed));
        Assert.Empty(ProviderFaults.Parse("wrong-seed").SkipLayers);
    }

    [Fact]
    public void The_pipeline_stage_faults_parse()
    {
        var f = ProviderFaults.Parse("forward-other-rows,forge-stage-part");
        Assert.Equal((true, true), (f.ForwardOtherRows, f.ForgeStagePart));
        Assert.Equal((false, false), (ProviderFaults.None.ForwardOtherRows, ProviderFaults.None.ForgeStagePart));
        Assert.Throws<ArgumentException>(() => ProviderFaults.Parse("forge-stage-part:1"));
    }

    [Theory]
    [InlineData("substitute-model")]
    [InlineData("substitute-model:")]
    [InlineData("cheaper-type")]
    [InlineData("cheaper-type:F32")]
    [InlineData("cheaper-type:Q4_K")]
    [InlineData("cheaper-type:2")]
    [InlineData("cheaper-type:Q5")]
    [InlineData("skip-layers")]
    [InlineData("skip-layers:")]
    [InlineData("skip-layers:-1")]
    [InlineData("skip-layers:a")]
    [InlineData("skip-layers:1,1")]
    [InlineData("wrong-seed,3")]
    [InlineData("random-tokens:1")]
    [InlineData("truncate")]
    [InlineData("truncate:0")]
    [InlineData("truncate:x")]
    [InlineData("forge-layer-hashes:-2")]
    [InlineData("lazy-validator:yes")]
    [InlineData("collude")]
    [InlineData("collude:/tmp/cartel")]
    [InlineData("skip-layers:1,collude:/tmp/cartel")]
    public void A_malformed_cheating_strategy_is_refused(string spec) =>
        Assert.Throws<ArgumentException>(() => ProviderFaults.Parse(spec));
}
