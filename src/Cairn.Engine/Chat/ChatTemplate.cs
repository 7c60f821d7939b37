using System.Text;

namespace Cairn.Engine.Chat;

/// <summary>
/// Turns a conversation into the prompt text a chat model was trained on. This is not a Jinja interpreter: like
/// llama.cpp's <c>llm_chat_apply_template</c> (src/llama-chat.cpp), each supported family is written out by hand and
/// the model's Jinja text (<c>tokenizer.chat_template</c>) only serves to recognise the family (<see cref="Detect(string?)"/>).
/// Rendering reproduces llama.cpp's output character for character, including its departures from the Jinja original
/// (e.g. llama2 puts no space around assistant replies, gemma folds the system message into the first user turn).
/// <para>
/// BOS rule (as in llama.cpp): the rendered text never starts with the BOS text. The caller tokenizes it with
/// <c>tokenizer.Encode(text, addBos: tokenizer.AddBos, parseSpecial: true)</c>, so the tokenizer adds the one leading
/// BOS and the special-token texts in the prompt (<c>&lt;|im_start|&gt;</c>, <c>&lt;|eot_id|&gt;</c>, an inner
/// <c>&lt;s&gt;</c> of llama2-sys-bos, …) become their token ids. Llama 3's Jinja begins with <c>bos_token</c>; here
/// <c>&lt;|begin_of_text|&gt;</c> comes from the tokenizer instead, never from the text, so it is never doubled.
/// </para>
/// <para>
/// Message content is pasted in verbatim and then tokenized with special-token parsing, as llama.cpp does; a client
/// can therefore write control tokens in its messages.
/// </para>
/// Instances are immutable and safe to share between threads.
/// </summary>
public abstract partial class ChatTemplate
{
    private protected ChatTemplate(string name, params string[] stopStrings)
    {
        Name = name;
        StopStrings = stopStrings;
    }

    /// <summary>The template's name, as llama.cpp names it (<c>chatml</c>, <c>llama3</c>, <c>llama2-sys</c>, …).</summary>
    public string Name { get; }

    /// <summary>
    /// Texts that end the assistant's turn. Generation stops on the tokenizer's end-of-generation tokens anyway
    /// (<c>Tokenizer.IsEndOfGeneration</c>); these strings are the textual backstop for models whose turn marker
    /// is not flagged as such in their vocabulary, and are never part of the answer.
    /// </summary>
    public IReadOnlyList<string> StopStrings { get; }

    /// <summary>
    /// The prompt for <paramref name="messages"/>. With <paramref name="addGenerationPrompt"/>, the opening of an
    /// assistant turn follows (for templates that have one: the [INST] family ends the prompt at <c>[/INST]</c>).
    /// </summary>
    /// <exception cref="ArgumentException">a message has a role other than system, user or assistant.</exception>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        ArgumentNullException.ThrowIfNull(messages);
        for (int i = 0; i < messages.Count; i++)
        {
            var m = messages[i] ?? throw new ArgumentException($"message {i} is null", nameof(messages));
            if (!ChatMessage.IsKnownRole(m.Role))
                throw new ArgumentException($"message {i} has role '{m.Role}' (allowed: system, user, assistant)", nameof(messages));
        }
        var sb = new StringBuilder();
        RenderTo(sb, messages, addGenerationPrompt);
        return sb.ToString();
    }

    private protected abstract void RenderTo(StringBuilder sb, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt);

    public override string ToString() => Name;

    /// <summary>Trims what C's <c>isspace</c> calls white space (space, \t, \n, \v, \f, \r) and nothing else, as llama.cpp's <c>trim</c> does; <see cref="string.Trim()"/> would also remove Unicode spaces.</summary>
    private protected static string Trim(string s)
    {
        int start = 0, end = s.Length;
        while (start < end && IsCSpace(s[start])) start++;
        while (end > start && IsCSpace(s[end - 1])) end--;
        return s[start..end];
    }

    private static bool IsCSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';
}
