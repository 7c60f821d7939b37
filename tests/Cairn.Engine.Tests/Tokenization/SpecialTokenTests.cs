using Cairn.Engine.Tokenization;

namespace Cairn.Engine.Tests.Tokenization;

public sealed class SpecialTokenTests
{
    [Fact]
    public void Control_token_text_becomes_its_id_only_when_parsing_special()
    {
        using var file = VocabFiles.Open("ggml-vocab-gpt-2.gguf");
        Tokenizer tokenizer = Tokenizer.FromGguf(file);
        int eot = tokenizer.Encode("<|endoftext|>", addBos: false, parseSpecial: true).Single();
        Assert.Equal("<|endoftext|>", tokenizer.TokenText(eot));
        Assert.Equal(eot, tokenizer.EotId);
        Assert.True(tokenizer.IsEndOfGeneration(eot));
        Assert.Empty(tokenizer.TokenBytes(eot));

        int[] withSpecial = tokenizer.Encode("Hi<|endoftext|>there", addBos: false, parseSpecial: true);
        Assert.Equal([.. tokenizer.Encode("Hi", false), eot, .. tokenizer.Encode("there", false)], withSpecial);
        Assert.True(tokenizer.Encode("Hi<|endoftext|>there", addBos: false).Length > 3);
        Assert.DoesNotContain(eot, tokenizer.Encode("Hi<|endoftext|>there", addBos: false));
    }

    [Fact]
    public void SentencePiece_prefixes_a_space_after_a_special_token_and_adds_bos_when_asked()
    {
        using var file = VocabFiles.Open("ggml-vocab-llama-spm.gguf");
        Tokenizer tokenizer = Tokenizer.FromGguf(file);
        Assert.True(tokenizer.AddBos);
        Assert.Equal(1, tokenizer.BosId);
        Assert.Equal(2, tokenizer.EosId);
        int[] ids = tokenizer.Encode("Hello</s>world", addBos: true, parseSpecial: true);
        Assert.Equal([1, .. tokenizer.Encode("Hello", false), 2, .. tokenizer.Encode("world", false)], ids);
        Assert.Equal("Hello world", tokenizer.Decode(ids));
    }
}
