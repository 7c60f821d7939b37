namespace Cairn.Engine.Chat;

public abstract partial class ChatTemplate
{
    /// <summary>Names of the templates Cairn renders, in the order error messages list them.</summary>
    public static IReadOnlyList<string> KnownNames { get; } =
    [
        "llama2", "llama2-sys", "llama2-sys-bos", "llama2-sys-strip", "llama3", "chatml", "zephyr",
        "mistral-v1", "mistral-v3", "mistral-v3-tekken", "mistral-v7", "mistral-v7-tekken", "phi3", "phi4", "gemma",
    ];

    /// <summary>
    /// The template called <paramref name="name"/> (one of <see cref="KnownNames"/>, case-sensitive as in llama.cpp).
    /// <paramref name="eosToken"/> is the model's EOS text, used by zephyr to close turns; without it zephyr closes
    /// turns with <c>&lt;|endoftext|&gt;</c> as llama.cpp's built-in zephyr does.
    /// </summary>
    /// <exception cref="ArgumentException">the name is not one of <see cref="KnownNames"/>.</exception>
    public static ChatTemplate FromName(string name, string? eosToken = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Create(name, eosToken)
            ?? throw new ArgumentException($"unknown chat template '{name}' (known: {string.Join(", ", KnownNames)})");
    }

    /// <summary>
    /// The template to use for a model: <paramref name="overrideName"/> when given (the operator's or the request's
    /// choice wins, as with llama.cpp's <c>--chat-template</c>), else the one <see cref="Detect(string?, string?)"/> finds in
    /// <paramref name="jinja"/>.
    /// </summary>
    /// <exception cref="ArgumentException">no override and the template is absent or not recognized; or the override is unknown.</exception>
    public static ChatTemplate Resolve(string? jinja, string? overrideName, string? eosToken = null)
    {
        if (!string.IsNullOrEmpty(overrideName)) return FromName(overrideName, eosToken);
        var template = Detect(jinja, eosToken);
        if (template is not null) return template;
        string known = string.Join(", ", KnownNames);
        if (string.IsNullOrEmpty(jinja))
            throw new ArgumentException($"the model has no chat template (no '{MetadataKey}' in its GGUF; known: {known}); pass a template name");
        string? family = DetectLlamaCppName(jinja);
        string hint = family is null ? "" : $"; llama.cpp would call it '{family}', which Cairn does not render";
        throw new ArgumentException($"the model's chat template is not recognized (known: {known}{hint}); pass a template name");
    }

    private static ChatTemplate? Create(string name, string? eosToken) => name switch
    {
        "chatml" => new ChatMlTemplate(),
        "llama2" => new Llama2Template(name, systemMessage: false, bosInsideHistory: false, strip: false),
        "llama2-sys" => new Llama2Template(name, systemMessage: true, bosInsideHistory: false, strip: false),
        "llama2-sys-bos" => new Llama2Template(name, systemMessage: true, bosInsideHistory: true, strip: false),
        "llama2-sys-strip" => new Llama2Template(name, systemMessage: true, bosInsideHistory: false, strip: true),
        "llama3" => new Llama3Template(),
        "zephyr" => new ZephyrTemplate(string.IsNullOrEmpty(eosToken) ? "<|endoftext|>" : eosToken),
        "mistral-v1" => new MistralTemplate(name, leadingSpace: true, trailingSpace: true, trimAssistant: false),
        "mistral-v3" => new MistralTemplate(name, leadingSpace: false, trailingSpace: true, trimAssistant: true),
        "mistral-v3-tekken" => new MistralTemplate(name, leadingSpace: false, trailingSpace: false, trimAssistant: false),
        "mistral-v7" => new MistralV7Template(name, space: true),
        "mistral-v7-tekken" => new MistralV7Template(name, space: false),
        "phi3" => new Phi3Template(),
        "phi4" => new Phi4Template(),
        "gemma" => new GemmaTemplate(),
        _ => null,
    };
}
