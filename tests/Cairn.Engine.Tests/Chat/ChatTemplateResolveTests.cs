using Cairn.Engine.Chat;
using Cairn.Engine.Gguf;
using Cairn.Engine.Tests.TestSupport;
using Cairn.Engine.Tokenization;
using static Cairn.Engine.Tests.Chat.ChatTemplateVectors;

namespace Cairn.Engine.Tests.Chat;

public sealed class ChatTemplateResolveTests
{
    private const string Known = "known: llama2, llama2-sys, llama2-sys-bos, llama2-sys-strip, llama3, chatml, zephyr, mistral-v1, mistral-v3, mistral-v3-tekken, mistral-v7, mistral-v7-tekken, phi3, phi4, gemma";

    [Fact]
    public void Unrecognized_template_without_override_is_a_clear_error()
    {
        var e = Assert.Throws<ArgumentException>(() => ChatTemplate.Resolve("{{ messages }}", overrideName: null));
        Assert.Equal($"the model's chat template is not recognized ({Known}); pass a template name", e.Message);
    }

    [Fact]
    public void Unsupported_family_is_named_in_the_error()
    {
        var e = Assert.Throws<ArgumentException>(() => ChatTemplate.Resolve(Vicuna, overrideName: null));
        Assert.Equal($"the model's chat template is not recognized ({Known}; llama.cpp would call it 'vicuna', which Cairn does not render); pass a template name", e.Message);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Absent_template_without_override_is_a_clear_error(string? jinja)
    {
        var e = Assert.Throws<ArgumentException>(() => ChatTemplate.Resolve(jinja, overrideName: null));
        Assert.Equal($"the model has no chat template (no 'tokenizer.chat_template' in its GGUF; {Known}); pass a template name", e.Message);
    }

    [Fact]
    public void Override_wins_over_the_detected_template()
    {
        Assert.Equal("chatml", ChatTemplate.Resolve(Llama3, "chatml").Name);
        Assert.Equal("llama3", ChatTemplate.Resolve(null, "llama3").Name);
        Assert.Equal("llama3", ChatTemplate.Resolve(Llama3, overrideName: null).Name);
        Assert.Equal("llama3", ChatTemplate.Resolve(Llama3, overrideName: "").Name);
    }

    [Fact]
    public void Unknown_override_is_a_clear_error()
    {
        var e = Assert.Throws<ArgumentException>(() => ChatTemplate.Resolve(Llama3, "llama-3"));
        Assert.Equal($"unknown chat template 'llama-3' ({Known})", e.Message);
        Assert.Throws<ArgumentException>(() => ChatTemplate.FromName("ChatML"));
    }

    public static TheoryData<string> ReferenceModels() =>
        new(ReferenceData.Root is null ? ["tiny-Q8_0.gguf"] : Directory.GetFiles(Path.Combine(ReferenceData.Root, "models"), "*.gguf").Select(Path.GetFileName).Order()!);

    [Theory]
    [MemberData(nameof(ReferenceModels))]
    public void Reference_models_have_no_chat_template_and_need_a_name(string model)
    {
        using var file = GgufFile.Open(ReferenceData.Model(model));
        Assert.Null(ChatTemplate.ReadJinja(file));
        Assert.Null(ChatTemplate.FromGguf(file));
        var e = Assert.Throws<ArgumentException>(() => ChatTemplate.ResolveFromGguf(file, overrideName: null));
        Assert.StartsWith("the model has no chat template", e.Message);
        Assert.EndsWith("pass a template name", e.Message);
        Assert.Equal("llama2", ChatTemplate.ResolveFromGguf(file, "llama2").Name);
    }

    [Fact]
    public void Zephyr_for_a_reference_model_closes_turns_with_its_eos_text()
    {
        using var file = GgufFile.Open(ReferenceData.Model("tiny-Q8_0.gguf"));
        Assert.Equal("</s>", ChatTemplate.ReadEosText(file));
        Assert.Equal(["</s>"], ChatTemplate.ResolveFromGguf(file, "zephyr").StopStrings);
    }

    [Fact]
    public void Template_and_eos_are_read_from_the_GGUF()
    {
        string path = Path.Combine(Path.GetTempPath(), $"cairn-chat-{Guid.NewGuid():N}.gguf");
        try
        {
            new GgufWriter()
                .Set("general.architecture", "llama")
                .Set("tokenizer.ggml.tokens", ["<unk>", "<s>", "</s>"])
                .Set("tokenizer.ggml.eos_token_id", 2u)
                .Set(ChatTemplate.MetadataKey, TinyLlama)
                .Write(path);
            using var file = GgufFile.Open(path);
            Assert.Equal(TinyLlama, ChatTemplate.ReadJinja(file));
            var template = ChatTemplate.FromGguf(file)!;
            Assert.Equal("zephyr", template.Name);
            Assert.Equal(["</s>"], template.StopStrings);
            Assert.Equal("zephyr", ChatTemplate.ResolveFromGguf(file, overrideName: null).Name);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Rendered_prompt_tokenizes_with_one_BOS_and_turn_markers_as_single_tokens()
    {
        using var file = GgufFile.Open(ReferenceData.Vocab("ggml-vocab-phi-3.gguf"));
        var tokenizer = Tokenizer.FromGguf(file);
        string text = ChatTemplate.FromName("phi3").Render([new("system", "Be brief."), new("user", "Hi")], addGenerationPrompt: true);
        int[] ids = tokenizer.Encode(text, addBos: tokenizer.AddBos, parseSpecial: true);
        int Id(string t) => Enumerable.Range(0, tokenizer.VocabSize).Single(i => tokenizer.TokenText(i) == t);
        Assert.Equal(tokenizer.AddBos ? 1 : 0, ids.Count(i => i == tokenizer.BosId));
        if (tokenizer.AddBos) Assert.Equal(tokenizer.BosId, ids[0]);
        Assert.Equal(2, ids.Count(i => i == Id("<|end|>")));
        Assert.Equal(1, ids.Count(i => i == Id("<|assistant|>")));
        // The prompt ends by opening the assistant's turn (phi-3's vocabulary strips the white space after its markers, as in llama.cpp).
        Assert.True(Array.LastIndexOf(ids, Id("<|assistant|>")) > Array.LastIndexOf(ids, Id("<|end|>")));
    }
}
