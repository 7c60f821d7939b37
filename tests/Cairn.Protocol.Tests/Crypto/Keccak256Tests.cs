using Cairn.Protocol.Crypto;

namespace Cairn.Protocol.Tests.Crypto;

public class Keccak256Tests
{
    [Theory]
    [InlineData("", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")]
    [InlineData("abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")]
    [InlineData("The quick brown fox jumps over the lazy dog", "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15")]
    public void Keccak256_matches_the_Ethereum_vectors(string input, string expected) =>
        Assert.Equal(expected, Keccak256.Hash(System.Text.Encoding.UTF8.GetBytes(input)).ToString());

    [Fact]
    public void Keccak256_is_not_SHA3_256()
    {
        // FIPS 202 SHA3-256("") = a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a.
        Assert.NotEqual("a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a", Keccak256.Hash([]).ToString());
    }

    [Fact]
    public void Keccak256_of_a_long_input_spans_several_blocks()
    {
        // Keccak-256 of one million 'a' characters (a standard long-message vector).
        var data = new byte[1_000_000];
        Array.Fill(data, (byte)'a');
        Assert.Equal("fadae6b49f129bbb812be8407b7b2894f34aecf6dbd1f9b0f0c7e9853098fc96", Keccak256.Hash(data).ToString());
    }

    [Fact]
    public void Hash256_parses_its_own_text_with_or_without_0x()
    {
        var h = Keccak256.Hash("abc"u8);
        Assert.Equal(h, Hash256.Parse(h.ToString()));
        Assert.Equal(h, Hash256.Parse("0x" + h.ToString().ToUpperInvariant()[..]));
        Assert.Throws<FormatException>(() => Hash256.Parse("abc"));
        Assert.Throws<FormatException>(() => Hash256.Parse(new string('g', 64)));
        Assert.True(Hash256.Zero.IsZero);
        Assert.False(h.IsZero);
    }
}
