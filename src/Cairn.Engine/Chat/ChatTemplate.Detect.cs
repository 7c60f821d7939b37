namespace Cairn.Engine.Chat;

public abstract partial class ChatTemplate
{
    /// <summary>GGUF metadata key holding the model's Jinja chat template.</summary>
    public const string MetadataKey = "tokenizer.chat_template";

    /// <summary>Recognizes the template family of a model's Jinja text; null when it is absent or not one Cairn renders.</summary>
    public static ChatTemplate? Detect(string? jinjaTemplate) => Detect(jinjaTemplate, eosToken: null);

    /// <summary>
    /// As <see cref="Detect(string?)"/>; <paramref name="eosToken"/> is the model's EOS text, which a zephyr template
    /// refers to as <c>eos_token</c> (<c>&lt;/s&gt;</c> for TinyLlama and zephyr-7b, <c>&lt;|endoftext|&gt;</c> for StableLM).
    /// </summary>
    public static ChatTemplate? Detect(string? jinjaTemplate, string? eosToken)
    {
        if (string.IsNullOrEmpty(jinjaTemplate)) return null;
        string? name = DetectLlamaCppName(jinjaTemplate);
        if (name is null) return null;
        if (name == "zephyr")
        {
            // A literal end-of-turn text in the template wins over the tokenizer's EOS (StableLM writes <|endoftext|>).
            string eot = jinjaTemplate.Contains("<|endoftext|>", StringComparison.Ordinal) ? "<|endoftext|>"
                : !string.IsNullOrEmpty(eosToken) ? eosToken : "</s>";
            return new ZephyrTemplate(eot);
        }
        return Create(name, eosToken);
    }

    /// <summary>
    /// The name llama.cpp's <c>llm_chat_detect_template</c> (src/llama-chat.cpp) gives this Jinja text, by the same
    /// characteristic substrings in the same order, including the families Cairn does not render (so that a template
    /// llama.cpp puts in an earlier family never falls through to a later one here). A template that is exactly a
    /// name is that name. One deliberate difference: llama.cpp sends any template holding both <c>&lt;|user|&gt;</c> and
    /// <c>&lt;|assistant|&gt;</c> (and no <c>&lt;|end|&gt;</c>) to falcon3 or glmedge, although TinyLlama's and zephyr-7b's
    /// templates close every turn with <c>eos_token</c>; here such a template is zephyr unless a turn ends with a bare
    /// newline (<c>+ '\n' }}</c>, falcon3's shape).
    /// </summary>
    internal static string? DetectLlamaCppName(string t)
    {
        if (KnownNames.Contains(t)) return t;
        bool Has(string s) => t.Contains(s, StringComparison.Ordinal);

        if (Has("<|im_start|>"))
            return Has("<|im_sep|>") ? "phi4" : Has("<end_of_utterance>") ? "smolvlm" : "chatml";
        if (t.StartsWith("mistral", StringComparison.Ordinal) || Has("[INST]"))
        {
            if (Has("[SYSTEM_PROMPT]")) return "mistral-v7";
            if (Has("' [INST] ' + system_message") || Has("[AVAILABLE_TOOLS]"))
                return Has(" [INST]") ? "mistral-v1" : Has("\"[INST]\"") ? "mistral-v3-tekken" : "mistral-v3";
            if (Has("content.strip()")) return "llama2-sys-strip";
            if (Has("bos_token + '[INST]")) return "llama2-sys-bos";
            return Has("<<SYS>>") ? "llama2-sys" : "llama2";
        }
        if (Has("<|assistant|>") && Has("<|end|>")) return "phi3";
        if (Has("[gMASK]<sop>")) return "chatglm4";
        if (Has("<|assistant|>") && Has("<|user|>"))
        {
            bool turnsEndWithNewline = Has("+ '\\n' }}") || Has("+ '\n' }}");
            if ((Has("eos_token") || Has("<|endoftext|>")) && !turnsEndWithNewline) return "zephyr";
            return Has("</s>") ? "falcon3" : "glmedge";
        }
        if (Has("<|{{ item['role'] }}|>") && Has("<|begin_of_image|>")) return "glmedge";
        if (Has("<|user|>") && Has("<|endoftext|>")) return "zephyr";
        if (Has("bos_token + message['role']")) return "monarch";
        if (Has("<start_of_turn>")) return "gemma";
        if (Has("'\\n\\nAssistant: ' + eos_token")) return "orion";
        if (Has("GPT4 Correct ")) return "openchat";
        if (Has("USER: ") && Has("ASSISTANT: ")) return Has("SYSTEM: ") ? "vicuna-orca" : "vicuna";
        if (Has("### Instruction:") && Has("<|EOT|>")) return "deepseek";
        if (Has("<|START_OF_TURN_TOKEN|>") && Has("<|USER_TOKEN|>")) return "command-r";
        if (Has("<|start_header_id|>") && Has("<|end_header_id|>")) return "llama3";
        return null;
    }
}
