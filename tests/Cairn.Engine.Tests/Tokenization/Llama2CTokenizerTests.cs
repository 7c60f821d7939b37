using Cairn.Engine.Gguf;
using Cairn.Engine.Tests.TestSupport;
using Cairn.Engine.Tokenization;

namespace Cairn.Engine.Tests.Tokenization;

/// <summary>The aidreams260K model: its llama2.c tokenizer.bin and the GGUF llama.cpp converted from it must agree with llama.cpp's prompt tokens.</summary>
public sealed class Llama2CTokenizerTests
{
    public static TheoryData<string, string> Prompts => new()
    {
        { "I dreamed", "aidreams260K.I_dreamed.ref.txt" },
        { "Once upon a time", "aidreams260K.Once_upon_a_time.ref.txt" },
    };

    private static int[] PromptTokens(string refFile)
    {
        string line = File.ReadLines(ReferenceData.Model(refFile)).First(l => l.StartsWith("prompt_tokens ", StringComparison.Ordinal));
        return [.. line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(int.Parse)];
    }

    [Theory]
    [MemberData(nameof(Prompts))]
    public void Gguf_vocabulary_encodes_the_prompt_as_llama_cpp(string prompt, string refFile)
    {
        using var file = GgufFile.Open(ReferenceData.Model("aidreams260K.gguf"));
        Tokenizer tokenizer = Tokenizer.FromGguf(file);
        Assert.IsType<SentencePieceTokenizer>(tokenizer);
        Assert.True(tokenizer.AddBos);
        Assert.Equal(PromptTokens(refFile), tokenizer.Encode(prompt, addBos: true));
    }

    [Theory]
    [MemberData(nameof(Prompts))]
    public void Tokenizer_bin_encodes_the_prompt_as_llama_cpp(string prompt, string refFile)
    {
        Tokenizer tokenizer = Tokenizer.FromLlama2C(ReferenceData.Model("tok512.bin"), 512);
        Assert.Equal(PromptTokens(refFile), tokenizer.Encode(prompt, addBos: true));
    }

    [Fact]
    public void Tokenizer_bin_decodes_like_run_c_dropping_the_space_after_bos()
    {
        Tokenizer tokenizer = Tokenizer.FromLlama2C(ReferenceData.Model("tok512.bin"), 512);
        int[] ids = tokenizer.Encode("I dreamed, as I sense the nodes", addBos: true);
        Assert.Equal("I dreamed, as I sense the nodes", tokenizer.Decode(ids));
        Assert.Equal(" I", tokenizer.Decode([ids[1]])); // not after BOS: run.c keeps the space
        Assert.True(tokenizer.IsEndOfGeneration(2));
        Assert.True(tokenizer.IsEndOfGeneration(1));
        Assert.Equal(1, tokenizer.BosId);
        Assert.Equal(2, tokenizer.EosId);
    }

    [Fact]
    public void Both_aidreams_tokenizers_agree_on_varied_text()
    {
        using var file = GgufFile.Open(ReferenceData.Model("aidreams260K.gguf"));
        Tokenizer gguf = Tokenizer.FromGguf(file);
        Tokenizer bin = Tokenizer.FromLlama2C(ReferenceData.Model("tok512.bin"), 512);
        foreach (string text in new[] { "The machine", "In the quiet", "a tapestry of 0.000000.", "Hello, wörld! ✅ 🦙", "  two  spaces", "x" })
        {
            Assert.Equal(gguf.Encode(text, addBos: true), bin.Encode(text, addBos: true));
            Assert.Equal(text, gguf.Decode(gguf.Encode(text, addBos: true)));
        }
    }
}
