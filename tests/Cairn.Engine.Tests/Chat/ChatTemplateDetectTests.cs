using Cairn.Engine.Chat;
using static Cairn.Engine.Tests.Chat.ChatTemplateVectors;

namespace Cairn.Engine.Tests.Chat;

/// <summary>Recognition of real templates by characteristic substrings, as llama.cpp's <c>llm_chat_detect_template</c> does.</summary>
public sealed class ChatTemplateDetectTests
{
    private static readonly ChatMessage[] Conversation =
    [
        new("system", "You are a helpful assistant"),
        new("user", "Hello"),
        new("assistant", "Hi there"),
        new("user", "Who are you"),
        new("assistant", "   I am an assistant   "),
        new("user", "Another question"),
    ];

    public static TheoryData<string, string> Recognized() => new()
    {
        { OpenHermes, "chatml" },
        { Qwen2, "chatml" },
        { Mistral7BV02, "llama2" },
        { Llama2Sys, "llama2-sys" },
        { FusionNet, "llama2-sys-bos" },
        { Vigogne, "llama2-sys-strip" },
        { Llama2Chat, "llama2-sys-strip" },
        { Llama3, "llama3" },
        { Llama3Instruct, "llama3" },
        { TinyLlama, "zephyr" },
        { ZephyrEndOfText, "zephyr" },
        { MistralV1, "mistral-v1" },
        { MistralV3Excerpt, "mistral-v3" },
        { MistralV3TekkenExcerpt, "mistral-v3-tekken" },
        { MistralV7, "mistral-v7" },
        { Phi3Mini, "phi3" },
        { Phi3Small, "phi3" },
        { Phi3Medium, "phi3" },
        { Phi3Vision, "phi3" },
        { Phi4, "phi4" },
        { Gemma, "gemma" },
    };

    [Theory]
    [MemberData(nameof(Recognized))]
    public void Real_template_is_recognized(string jinja, string name) => Assert.Equal(name, ChatTemplate.Detect(jinja)?.Name);

    /// <summary>llama.cpp's test end to end: its template text, detected and rendered, gives its <c>expected_output</c>.</summary>
    public static TheoryData<string, string> LlamaCppCases() => new()
    {
        { OpenHermes, "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n<|im_start|>assistant\n" },
        { Mistral7BV02, "[INST] You are a helpful assistant\nHello [/INST]Hi there</s>[INST] Who are you [/INST]   I am an assistant   </s>[INST] Another question [/INST]" },
        { FusionNet, "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s><s>[INST] Who are you [/INST]   I am an assistant   </s><s>[INST] Another question [/INST]" },
        { Vigogne, "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s>[INST] Who are you [/INST]I am an assistant</s>[INST] Another question [/INST]" },
        { Gemma, "<start_of_turn>user\nYou are a helpful assistant\n\nHello<end_of_turn>\n<start_of_turn>model\nHi there<end_of_turn>\n<start_of_turn>user\nWho are you<end_of_turn>\n<start_of_turn>model\nI am an assistant<end_of_turn>\n<start_of_turn>user\nAnother question<end_of_turn>\n<start_of_turn>model\n" },
        { Llama3, "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n" },
        { Phi3Mini, "<|system|>\nYou are a helpful assistant<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n<|user|>\nWho are you<|end|>\n<|assistant|>\n   I am an assistant   <|end|>\n<|user|>\nAnother question<|end|>\n<|assistant|>\n" },
        { Phi3Vision, "<|system|>\nYou are a helpful assistant<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n<|user|>\nWho are you<|end|>\n<|assistant|>\n   I am an assistant   <|end|>\n<|user|>\nAnother question<|end|>\n<|assistant|>\n" },
        { MistralV1, " [INST] You are a helpful assistant\n\nHello [/INST] Hi there</s> [INST] Who are you [/INST]    I am an assistant   </s> [INST] Another question [/INST]" },
        { MistralV7, "[SYSTEM_PROMPT] You are a helpful assistant[/SYSTEM_PROMPT][INST] Hello[/INST] Hi there</s>[INST] Who are you[/INST]    I am an assistant   </s>[INST] Another question[/INST]" },
        { Phi4, "<|im_start|>system<|im_sep|>You are a helpful assistant<|im_end|><|im_start|>user<|im_sep|>Hello<|im_end|><|im_start|>assistant<|im_sep|>Hi there<|im_end|><|im_start|>user<|im_sep|>Who are you<|im_end|><|im_start|>assistant<|im_sep|>   I am an assistant   <|im_end|><|im_start|>user<|im_sep|>Another question<|im_end|><|im_start|>assistant<|im_sep|>" },
    };

    [Theory]
    [MemberData(nameof(LlamaCppCases))]
    public void Template_text_detected_and_rendered_gives_llama_cpp_expected_output(string jinja, string expected) =>
        Assert.Equal(expected, ChatTemplate.Detect(jinja)!.Render(Conversation, addGenerationPrompt: true));

    [Fact]
    public void Zephyr_end_of_turn_comes_from_the_template_text_else_the_models_eos()
    {
        Assert.Equal(["</s>"], ChatTemplate.Detect(TinyLlama)!.StopStrings);
        Assert.Equal(["<|endoftext|>"], ChatTemplate.Detect(TinyLlama, eosToken: "<|endoftext|>")!.StopStrings);
        Assert.Equal(["<|endoftext|>"], ChatTemplate.Detect(ZephyrEndOfText, eosToken: "</s>")!.StopStrings);
        ChatMessage[] chat = [new("user", "Hello")];
        Assert.Equal("<|user|>\nHello</s>\n<|assistant|>\n", ChatTemplate.Detect(TinyLlama, eosToken: "</s>")!.Render(chat, addGenerationPrompt: true));
    }

    [Theory]
    [InlineData("chatml")]
    [InlineData("llama3")]
    [InlineData("llama2-sys-bos")]
    [InlineData("mistral-v7-tekken")]
    public void A_template_that_is_a_name_is_that_template(string name) => Assert.Equal(name, ChatTemplate.Detect(name)?.Name);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("{{ messages }}")]
    [InlineData("INVALID TEMPLATE")]
    [InlineData(Vicuna)]
    [InlineData(Falcon3Like)]
    public void Absent_unknown_or_unsupported_template_gives_null(string? jinja) => Assert.Null(ChatTemplate.Detect(jinja));

    [Fact]
    public void Families_llama_cpp_knows_but_Cairn_does_not_render_keep_their_place_in_the_order()
    {
        Assert.Equal("vicuna", ChatTemplate.DetectLlamaCppName(Vicuna));
        Assert.Equal("glmedge", ChatTemplate.DetectLlamaCppName(Falcon3Like));
        // A template with both vicuna's and llama3's markers is vicuna in llama.cpp (vicuna is tested first), so not llama3 here.
        Assert.Null(ChatTemplate.Detect("USER: ASSISTANT: <|start_header_id|><|end_header_id|>"));
    }
}
