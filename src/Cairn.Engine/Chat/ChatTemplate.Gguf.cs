using Cairn.Engine.Gguf;

namespace Cairn.Engine.Chat;

public abstract partial class ChatTemplate
{
    /// <summary>The model's Jinja chat template (<c>tokenizer.chat_template</c>), or null when the file has none.</summary>
    public static string? ReadJinja(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return file.TryGetString(MetadataKey);
    }

    /// <summary>The text of the model's EOS token (<c>tokenizer.ggml.eos_token_id</c> into <c>tokenizer.ggml.tokens</c>), or null when either is missing or out of range.</summary>
    public static string? ReadEosText(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        long? id = file.TryGetInteger("tokenizer.ggml.eos_token_id");
        if (id is null || !file.Has("tokenizer.ggml.tokens")) return null;
        string[]? tokens = file.TryGetArray<string>("tokenizer.ggml.tokens");
        return tokens is not null && id >= 0 && id < tokens.Length ? tokens[id.Value] : null;
    }

    /// <summary>The template recognized in the file's <c>tokenizer.chat_template</c>, or null when it is absent or unknown (a base model: completions only).</summary>
    public static ChatTemplate? FromGguf(GgufFile file) => Detect(ReadJinja(file), ReadEosText(file));

    /// <summary><see cref="Resolve(string?, string?, string?)"/> for a model file: <paramref name="overrideName"/> if given, else its detected template.</summary>
    /// <exception cref="ArgumentException">no override and the file's template is absent or not recognized; or the override is unknown.</exception>
    public static ChatTemplate ResolveFromGguf(GgufFile file, string? overrideName) => Resolve(ReadJinja(file), overrideName, ReadEosText(file));
}
