namespace Cairn.Engine.Chat;

/// <summary>
/// One turn of a conversation. <see cref="Role"/> is <c>system</c>, <c>user</c> or <c>assistant</c> (OpenAI's names,
/// lower case); <see cref="ChatTemplate.Render"/> rejects any other. Content is used as given: templates that trim
/// (llama3, gemma, llama2-sys-strip) do so themselves, exactly as llama.cpp does.
/// </summary>
public sealed class ChatMessage
{
    public const string System = "system";
    public const string User = "user";
    public const string Assistant = "assistant";

    public ChatMessage(string role, string content)
    {
        ArgumentNullException.ThrowIfNull(role);
        ArgumentNullException.ThrowIfNull(content);
        Role = role;
        Content = content;
    }

    public string Role { get; }

    public string Content { get; }

    /// <summary>Whether <paramref name="role"/> is one the templates render (a request validator calls this before rendering).</summary>
    public static bool IsKnownRole(string? role) => role is System or User or Assistant;

    public override string ToString() => $"{Role}: {Content}";
}
