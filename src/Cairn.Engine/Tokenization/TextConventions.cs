namespace Cairn.Engine.Tokenization;

/// <summary>Token texts llama.cpp recognises by name when a GGUF file names no id for them.</summary>
internal static class TextConventions
{
    public static readonly string[] Eot =
        ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>",
         "<｜end▁of▁sentence｜>", "<end_of_utterance>"];

    public static readonly string[] Eom = ["<|eom_id|>"];
    public static readonly string[] FimPre = ["<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>"];
    public static readonly string[] FimSuf = ["<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>"];
    public static readonly string[] FimMid = ["<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>"];
    public static readonly string[] FimPad = ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>"];
    public static readonly string[] FimRep = ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"];
    public static readonly string[] FimSep = ["<|file_sep|>"];

    public static readonly string[] EndOfGeneration =
        ["<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
         "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>", "<|end_of_text|>", "<end_of_utterance>"];

    /// <summary>gpt-oss: always rendered.</summary>
    public static readonly string[] AlwaysRendered = ["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"];
}
