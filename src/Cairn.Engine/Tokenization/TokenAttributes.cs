namespace Cairn.Engine.Tokenization;

/// <summary>Per-token attributes, as llama.cpp's <c>llama_token_attr</c> (bit values kept identical).</summary>
[Flags]
internal enum TokenAttributes
{
    Undefined = 0,
    Unknown = 1 << 0,
    Unused = 1 << 1,
    Normal = 1 << 2,
    Control = 1 << 3,
    UserDefined = 1 << 4,
    Byte = 1 << 5,
    Normalized = 1 << 6,
    LStrip = 1 << 7,
    RStrip = 1 << 8,
    SingleWord = 1 << 9,
}

/// <summary>GGUF <c>tokenizer.ggml.token_type</c> values (llama.cpp's <c>llama_token_type</c>).</summary>
internal static class GgufTokenType
{
    public const int Undefined = 0, Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6;

    public static TokenAttributes ToAttributes(int type) => type switch
    {
        Normal => TokenAttributes.Normal,
        Unknown => TokenAttributes.Unknown,
        Control => TokenAttributes.Control,
        UserDefined => TokenAttributes.UserDefined,
        Unused => TokenAttributes.Unused,
        Byte => TokenAttributes.Byte,
        _ => TokenAttributes.Undefined,
    };
}
