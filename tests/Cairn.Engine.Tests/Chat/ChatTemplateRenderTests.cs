using Cairn.Engine.Chat;

namespace Cairn.Engine.Tests.Chat;

/// <summary>
/// Rendering matches llama.cpp's <c>llm_chat_apply_template</c>. Conversation and expected strings are the
/// <c>expected_output</c> vectors of llama.cpp's tests/test-chat-template.cpp (ggml-org/llama.cpp @ 03f94f19), named
/// after the model whose template the vector belongs to; vectors marked "derived" have no case in that file and follow
/// src/llama-chat.cpp (@ 0192c129) by hand.
/// </summary>
public sealed class ChatTemplateRenderTests
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

    public static TheoryData<string, string> Expected() => new()
    {
        // teknium/OpenHermes-2.5-Mistral-7B
        { "chatml", "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n<|im_start|>assistant\n" },
        // mistralai/Mistral-7B-Instruct-v0.2 (old pre-v1 template without a system prompt)
        { "llama2", "[INST] You are a helpful assistant\nHello [/INST]Hi there</s>[INST] Who are you [/INST]   I am an assistant   </s>[INST] Another question [/INST]" },
        // derived: llama2 with <<SYS>> support, neither BOS inside the history nor stripping
        { "llama2-sys", "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s>[INST] Who are you [/INST]   I am an assistant   </s>[INST] Another question [/INST]" },
        // TheBloke/FusionNet_34Bx2_MoE-AWQ
        { "llama2-sys-bos", "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s><s>[INST] Who are you [/INST]   I am an assistant   </s><s>[INST] Another question [/INST]" },
        // bofenghuang/vigogne-2-70b-chat
        { "llama2-sys-strip", "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s>[INST] Who are you [/INST]I am an assistant</s>[INST] Another question [/INST]" },
        // Llama-3
        { "llama3", "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n" },
        // derived: llama.cpp's built-in zephyr (StableLM's <|endoftext|>)
        { "zephyr", "<|system|>\nYou are a helpful assistant<|endoftext|>\n<|user|>\nHello<|endoftext|>\n<|assistant|>\nHi there<|endoftext|>\n<|user|>\nWho are you<|endoftext|>\n<|assistant|>\n   I am an assistant   <|endoftext|>\n<|user|>\nAnother question<|endoftext|>\n<|assistant|>\n" },
        // mistralai/Mistral-7B-Instruct-v0.2 (mistralai 'v1' template with a system prompt)
        { "mistral-v1", " [INST] You are a helpful assistant\n\nHello [/INST] Hi there</s> [INST] Who are you [/INST]    I am an assistant   </s> [INST] Another question [/INST]" },
        // Mistral-Large-Instruct-2407 (mistralai 'v3' template)
        { "mistral-v3", "[INST] You are a helpful assistant\n\nHello[/INST] Hi there</s>[INST] Who are you[/INST] I am an assistant</s>[INST] Another question[/INST]" },
        // Mistral-Nemo-Instruct-2407 (mistralai 'v3-tekken' template)
        { "mistral-v3-tekken", "[INST]You are a helpful assistant\n\nHello[/INST]Hi there</s>[INST]Who are you[/INST]   I am an assistant   </s>[INST]Another question[/INST]" },
        // mistralai/Mistral-Large-Instruct-2411 (mistralai 'v7' template)
        { "mistral-v7", "[SYSTEM_PROMPT] You are a helpful assistant[/SYSTEM_PROMPT][INST] Hello[/INST] Hi there</s>[INST] Who are you[/INST]    I am an assistant   </s>[INST] Another question[/INST]" },
        // derived: v7 without the spaces after the openers
        { "mistral-v7-tekken", "[SYSTEM_PROMPT]You are a helpful assistant[/SYSTEM_PROMPT][INST]Hello[/INST]Hi there</s>[INST]Who are you[/INST]   I am an assistant   </s>[INST]Another question[/INST]" },
        // Phi-3-small (Phi-3-mini, -medium and -vision share the vector)
        { "phi3", "<|system|>\nYou are a helpful assistant<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n<|user|>\nWho are you<|end|>\n<|assistant|>\n   I am an assistant   <|end|>\n<|user|>\nAnother question<|end|>\n<|assistant|>\n" },
        // phi-4
        { "phi4", "<|im_start|>system<|im_sep|>You are a helpful assistant<|im_end|><|im_start|>user<|im_sep|>Hello<|im_end|><|im_start|>assistant<|im_sep|>Hi there<|im_end|><|im_start|>user<|im_sep|>Who are you<|im_end|><|im_start|>assistant<|im_sep|>   I am an assistant   <|im_end|><|im_start|>user<|im_sep|>Another question<|im_end|><|im_start|>assistant<|im_sep|>" },
        // google/gemma-7b-it
        { "gemma", "<start_of_turn>user\nYou are a helpful assistant\n\nHello<end_of_turn>\n<start_of_turn>model\nHi there<end_of_turn>\n<start_of_turn>user\nWho are you<end_of_turn>\n<start_of_turn>model\nI am an assistant<end_of_turn>\n<start_of_turn>user\nAnother question<end_of_turn>\n<start_of_turn>model\n" },
    };

    [Theory]
    [MemberData(nameof(Expected))]
    public void Conversation_renders_as_llama_cpp_renders_it(string name, string expected)
    {
        var template = ChatTemplate.FromName(name);
        Assert.Equal(name, template.Name);
        Assert.Equal(expected, template.Render(Conversation, addGenerationPrompt: true));
    }

    [Fact]
    public void Every_known_name_has_an_expected_rendering()
    {
        var covered = Expected().Select(row => (string)row[0]).ToHashSet();
        Assert.Equal(ChatTemplate.KnownNames.Order(), covered.Order());
    }

    [Theory]
    [MemberData(nameof(Expected))]
    public void Rendered_text_never_starts_with_a_BOS_text(string name, string _)
    {
        string text = ChatTemplate.FromName(name).Render(Conversation, addGenerationPrompt: true);
        Assert.False(text.StartsWith("<s>", StringComparison.Ordinal));
        Assert.False(text.StartsWith("<|begin_of_text|>", StringComparison.Ordinal));
        Assert.False(text.StartsWith("<bos>", StringComparison.Ordinal));
    }

    [Fact]
    public void TinyLlama_zephyr_closes_turns_with_its_eos_text()
    {
        // TinyLlama-1.1B-Chat-v1.0 through transformers' apply_chat_template (trim_blocks): each turn ends with eos_token + "\n".
        var template = ChatTemplate.FromName("zephyr", eosToken: "</s>");
        ChatMessage[] chat = [new("system", "You are a friendly chatbot"), new("user", "Hello"), new("assistant", "Hi!"), new("user", "How are you?")];
        Assert.Equal(
            "<|system|>\nYou are a friendly chatbot</s>\n<|user|>\nHello</s>\n<|assistant|>\nHi!</s>\n<|user|>\nHow are you?</s>\n<|assistant|>\n",
            template.Render(chat, addGenerationPrompt: true));
        Assert.Equal(["</s>"], template.StopStrings);
    }

    [Fact]
    public void Generation_prompt_is_only_appended_when_asked()
    {
        ChatMessage[] chat = [new("user", "Hi")];
        Assert.Equal("<|im_start|>user\nHi<|im_end|>\n", ChatTemplate.FromName("chatml").Render(chat, addGenerationPrompt: false));
        Assert.Equal("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", ChatTemplate.FromName("llama3").Render(chat, addGenerationPrompt: false));
        // The [INST] family has no generation prompt: the prompt ends at [/INST] either way.
        Assert.Equal("[INST] Hi [/INST]", ChatTemplate.FromName("llama2").Render(chat, addGenerationPrompt: true));
        Assert.Equal("[INST] Hi [/INST]", ChatTemplate.FromName("llama2").Render(chat, addGenerationPrompt: false));
    }

    [Fact]
    public void Trimming_removes_C_white_space_only()
    {
        // llama.cpp trims with isspace: a no-break space (U+00A0) stays, string.Trim() would remove it.
        ChatMessage[] chat = [new("user", "\u00A0 hi \t\r\n")];
        Assert.Equal("<|start_header_id|>user<|end_header_id|>\n\n\u00A0 hi<|eot_id|>", ChatTemplate.FromName("llama3").Render(chat, addGenerationPrompt: false));
    }

    [Fact]
    public void Gemma_folds_the_system_message_into_the_next_user_turn()
    {
        ChatMessage[] chat = [new("system", " Be brief. "), new("user", "Hi")];
        Assert.Equal("<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n", ChatTemplate.FromName("gemma").Render(chat, addGenerationPrompt: true));
    }

    [Theory]
    [InlineData("tool")]
    [InlineData("User")]
    [InlineData("")]
    public void Unknown_role_is_rejected_with_its_position(string role)
    {
        ChatMessage[] chat = [new("user", "Hi"), new(role, "x")];
        var e = Assert.Throws<ArgumentException>(() => ChatTemplate.FromName("chatml").Render(chat, addGenerationPrompt: true));
        Assert.Equal($"message 1 has role '{role}' (allowed: system, user, assistant) (Parameter 'messages')", e.Message);
    }

    public static TheoryData<string, string[]> Stops() => new()
    {
        { "chatml", ["<|im_end|>"] },
        { "llama2", ["</s>"] },
        { "llama2-sys", ["</s>"] },
        { "llama3", ["<|eot_id|>"] },
        { "zephyr", ["<|endoftext|>"] },
        { "mistral-v7", ["</s>"] },
        { "phi3", ["<|end|>"] },
        { "phi4", ["<|im_end|>"] },
        { "gemma", ["<end_of_turn>"] },
    };

    [Theory]
    [MemberData(nameof(Stops))]
    public void Stop_strings_are_the_end_of_turn_markers(string name, string[] stops) =>
        Assert.Equal(stops, ChatTemplate.FromName(name).StopStrings);
}
