using System.Text;

namespace Cairn.Engine.Chat;

/// <summary>
/// Gemma instruct: <c>&lt;start_of_turn&gt;user|model\ncontent&lt;end_of_turn&gt;\n</c>, content trimmed. Gemma has no
/// system role: system texts (trimmed, concatenated) open the next user turn, followed by a blank line, as in llama.cpp.
/// </summary>
internal sealed class GemmaTemplate() : ChatTemplate("gemma", "<end_of_turn>")
{
    private protected override void RenderTo(StringBuilder sb, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        string system = "";
        foreach (var m in messages)
        {
            if (m.Role == ChatMessage.System)
            {
                system += Trim(m.Content);
                continue;
            }
            string role = m.Role == ChatMessage.Assistant ? "model" : m.Role;
            sb.Append("<start_of_turn>").Append(role).Append('\n');
            if (system.Length > 0 && role != "model")
            {
                sb.Append(system).Append("\n\n");
                system = "";
            }
            sb.Append(Trim(m.Content)).Append("<end_of_turn>\n");
        }
        if (addGenerationPrompt) sb.Append("<start_of_turn>model\n");
    }
}
