namespace Cairn.Engine.Tokenization;

/// <summary>The split expressions per <c>tokenizer.ggml.pre</c>, verbatim from llama.cpp's <c>llm_tokenizer_bpe</c>.</summary>
public sealed partial class PreTokenizer
{
    internal const string Gpt2Expression = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)";

    internal const string Llama3Expression =
        @"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    internal const string Llama3OriginalExpression =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private const string Qwen2Expression =
        @"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private const string PoroExpression = @" ?[^(\s|.,!?…。，、।۔،)]+";

    // Escaped: the class holds compatibility characters (U+1FBE, U+2126, U+212A, …) that Unicode normalization would rewrite.
    private const string DeepSeekLetters =
        "\\s?[A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF\u0370-\u0373\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5\u03F7-\u0481\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4\u1FF6-\u1FFC\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134\u2139\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE\u2CF2\u2CF3\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF\uFB00-\uFB06\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A\U00010400-\U0001044F\U000104B0-\U000104D3\U000104D8-\U000104FB\U00010C80-\U00010CB2\U00010CC0-\U00010CF2\U000118A0-\U000118DF\U0001E900-\U0001E943]+";

    private const string Cjk = "[一-龥ࠀ-一가-퟿]+";

    /// <summary>Names llama.cpp maps to the Llama-3 expression and for which it also sets <c>ignore_merges</c> and <c>add_bos</c>.</summary>
    internal static bool IsLlama3Family(string pre) =>
        pre is "llama3" or "llama-v3" or "llama-bpe" or "falcon3" or "falcon-h1" or "pixtral" or "midm-2.0" or "lfm2";

    private static string[]? Expressions(string pre)
    {
        if (IsLlama3Family(pre)) return [Llama3Expression];
        return pre switch
        {
            "default" => [@"[\p{P}\$\+<=>\^~\|]+", Gpt2Expression, @"\p{N}+", "[0-9][0-9][0-9]"],
            "dbrx" or "smaug-bpe" or "glm4" or "chatglm-bpe" => [Llama3Expression],
            "deepseek-llm" => ["[\r\n]", DeepSeekLetters, @"\s?[!-/:-~！-／：-～‘-‟　-。]+", @"\s+$", Cjk, @"\p{N}+"],
            "deepseek-coder" => ["[\r\n]", @"\s?\p{L}+", @"\s?\p{P}+", Cjk, @"\p{N}"],
            "falcon" => [@"[\p{P}\$\+<=>\^~\|`]+", Gpt2Expression, "[0-9][0-9][0-9]"],
            "starcoder" or "refact" or "command-r" or "smollm" or "codeshell" or "exaone" or "minerva-7b" => [@"\p{N}", Gpt2Expression],
            "gpt-2" or "phi-2" or "jina-es" or "jina-de" or "gigachat" or "jina-v2-es" or "jina-v2-de" or "a.x-4.0" or "mellum"
                or "modern-bert" or "jina-v1-en" or "jina-v2-code" or "roberta-bpe" or "mpt" or "olmo" or "jais" or "trillion"
                or "granite-docling" or "exaone4" => [Gpt2Expression],
            "qwen2" or "deepseek-r1-qwen" or "kormo" or "stablelm2" or "hunyuan" or "solar-open" or "megrez" => [Qwen2Expression],
            "poro-chat" or "bloom" or "gpt3-finnish" => [PoroExpression],
            "viking" => [PoroExpression, @"\p{N}"],
            _ => null,
        };
    }
}
