using System.Text;

namespace Cairn.Engine.Chat;

/// <summary>
/// Mistral v7 (Mistral-Large-2411, Mistral-Small-3.x): <c>[SYSTEM_PROMPT]</c>…<c>[/SYSTEM_PROMPT]</c>,
/// <c>[INST]</c>…<c>[/INST]</c>, replies closed by <c>&lt;/s&gt;</c>; the tekken variant has no space after the openers.
/// </summary>
internal sealed class MistralV7Template(string name, bool space) : ChatTemplate(name, "</s>")
{
    private protected override void RenderTo(StringBuilder sb, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        string s = space ? " " : "";
        foreach (var m in messages)
        {
            if (m.Role == ChatMessage.System) sb.Append("[SYSTEM_PROMPT]").Append(s).Append(m.Content).Append("[/SYSTEM_PROMPT]");
            else if (m.Role == ChatMessage.User) sb.Append("[INST]").Append(s).Append(m.Content).Append("[/INST]");
            else sb.Append(s).Append(m.Content).Append("</s>");
        }
    }
}
