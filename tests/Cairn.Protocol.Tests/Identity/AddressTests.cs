using Cairn.Protocol.Identity;

namespace Cairn.Protocol.Tests.Identity;

public class AddressTests
{
    // EIP-55's own test vectors.
    [Theory]
    [InlineData("0x52908400098527886E0F7030069857D2E4169EE7")]
    [InlineData("0x8617E340B3D01FA5F11F306F4090FD50E238070D")]
    [InlineData("0xde709f2102306220921060314715629080e2fb77")]
    [InlineData("0x27b1fdb04752bbc536007a920d24acb045561c26")]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")]
    [InlineData("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359")]
    [InlineData("0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB")]
    [InlineData("0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb")]
    public void Checksummed_text_matches_EIP_55(string text)
    {
        var a = Address.Parse(text);
        bool mixed = text.Any(char.IsLower) && text[2..].Any(char.IsUpper);
        if (mixed) Assert.Equal(text, a.ToString());
        else Assert.Equal(text.ToLowerInvariant().Replace("0x", ""), a.ToString().ToLowerInvariant().Replace("0x", ""));
        Assert.Equal(a, Address.Parse(a.ToString(), requireChecksum: true));
    }

    [Fact]
    public void A_wrong_checksum_is_rejected_with_the_expected_form()
    {
        var e = Assert.Throws<FormatException>(() => Address.Parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"));
        Assert.Contains("EIP-55", e.Message);
        Assert.Contains("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", e.Message);
    }

    [Fact]
    public void Unchecksummed_text_is_refused_when_a_checksum_is_required()
    {
        Assert.False(Address.TryParse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", out _, out string? error, requireChecksum: true));
        Assert.Contains("checksum", error);
        Assert.True(Address.TryParse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", out _, out _));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA")]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAedaa")]
    [InlineData("0xZaAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")]
    [InlineData("0X5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")]
    public void Malformed_text_is_rejected(string? text) => Assert.False(Address.TryParse(text, out _, out _));
}
