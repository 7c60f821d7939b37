using System.Text;

namespace Cairn.Engine.Chat;

/// <summary>
/// Mistral's own v1, v3 and v3-tekken templates (Mistral-7B-Instruct v0.3, Mixtral, Mistral-Nemo…), after Mistral's
/// tokenization cookbook as llama.cpp implements it: a system message opens the next [INST] block followed by a blank
/// line; v1 puts a space before [INST] and [/INST], tekken no space after; v3 trims assistant replies.
/// The prompt ends at <c>[/INST]</c>.
/// </summary>
internal sealed class MistralTemplate(string name, bool leadingSpace, bool trailingSpace, bool trimAssistant)
    : ChatTemplate(name, "</s>")
{
    private protected override void RenderTo(StringBuilder sb, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        string lead = leadingSpace ? " " : "", trail = trailingSpace ? " " : "";
        bool insideTurn = false;
        foreach (var m in messages)
        {
            if (!insideTurn)
            {
                sb.Append(lead).Append("[INST]").Append(trail);
                insideTurn = true;
            }
            if (m.Role == ChatMessage.System) sb.Append(m.Content).Append("\n\n");
            else if (m.Role == ChatMessage.User) sb.Append(m.Content).Append(lead).Append("[/INST]");
            else
            {
                sb.Append(trail).Append(trimAssistant ? Trim(m.Content) : m.Content).Append("</s>");
                insideTurn = false;
            }
        }
    }
}
