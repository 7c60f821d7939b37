using System.Text;
using Cairn.Engine.Gguf;
using Cairn.Engine.Tests.TestSupport;
using Cairn.Engine.Tokenization;

namespace Cairn.Engine.Tests.Tokenization;

public sealed class StreamingDecoderTests
{
    private static void AssertStreamsLikeDecode(Tokenizer tokenizer, int[] ids, bool startOfText)
    {
        var decoder = new StreamingDecoder(tokenizer, startOfText);
        var sb = new StringBuilder();
        foreach (int id in ids)
        {
            string part = decoder.Push(id);
            Assert.DoesNotContain('\uFFFD', part);
            if (part.Length > 0) Assert.False(char.IsHighSurrogate(part[^1]), "half a surrogate pair was emitted");
            sb.Append(part);
        }
        sb.Append(decoder.Flush());
        Assert.Equal(tokenizer.Decode(ids), sb.ToString());
    }

    [Fact]
    public void Characters_split_over_byte_tokens_are_never_emitted_half()
    {
        using var file = VocabFiles.Open("ggml-vocab-llama-spm.gguf");
        Tokenizer tokenizer = Tokenizer.FromGguf(file);
        int[] ids = tokenizer.Encode("café 🦙 and 🚀!", addBos: true);
        int byteTokens = ids.Count(id => tokenizer.TokenText(id).StartsWith("<0x", StringComparison.Ordinal));
        Assert.True(byteTokens >= 4, "the emoji should fall back to byte tokens");

        var decoder = new StreamingDecoder(tokenizer);
        var parts = ids.Select(decoder.Push).ToList();
        parts.Add(decoder.Flush());
        Assert.Contains(parts, p => p.Contains("🦙", StringComparison.Ordinal));
        Assert.Equal("café 🦙 and 🚀!", string.Concat(parts));
        AssertStreamsLikeDecode(tokenizer, ids, startOfText: false);
    }

    [Fact]
    public void Byte_level_bpe_pieces_that_split_a_character_are_held_back()
    {
        using var file = VocabFiles.Open("ggml-vocab-gpt-2.gguf");
        Tokenizer tokenizer = Tokenizer.FromGguf(file);
        int[] ids = tokenizer.Encode("нещо на Български 😁 ?我想在apple工作", addBos: false);
        AssertStreamsLikeDecode(tokenizer, ids, startOfText: true);
        AssertStreamsLikeDecode(tokenizer, ids, startOfText: false);
    }

    [Fact]
    public void Flush_turns_an_unfinished_character_into_a_replacement()
    {
        using var file = VocabFiles.Open("ggml-vocab-llama-spm.gguf");
        Tokenizer tokenizer = Tokenizer.FromGguf(file);
        int e9 = Array.FindIndex(Enumerable.Range(0, tokenizer.VocabSize).ToArray(), id => tokenizer.TokenText(id) == "<0xC3>");
        var decoder = new StreamingDecoder(tokenizer);
        Assert.Equal("", decoder.Push(e9));
        Assert.Equal("\uFFFD", decoder.Flush());
        Assert.Equal([0xC3], tokenizer.TokenBytes(e9));
    }

    [Fact]
    public void A_stream_starting_with_bos_equals_decode()
    {
        Tokenizer tokenizer = Tokenizer.FromLlama2C(ReferenceData.Model("tok512.bin"), 512);
        int[] ids = tokenizer.Encode("I dreamed of é and 🦙", addBos: true);
        AssertStreamsLikeDecode(tokenizer, ids, startOfText: false);
        Assert.Equal("I dreamed of é and 🦙", tokenizer.Decode(ids));
    }
}
