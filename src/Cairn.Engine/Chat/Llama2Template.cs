using System.Text;

namespace Cairn.Engine.Chat;

/// <summary>
/// Llama 2 chat and its [INST] relatives (Mistral-7B-Instruct v0.1/v0.2 before Mistral's own templates), in llama.cpp's
/// four variants: <c>llama2</c> (a system message becomes plain text before the first user message),
/// <c>llama2-sys</c> (system in <c>&lt;&lt;SYS&gt;&gt;</c>), <c>llama2-sys-bos</c> (each later [INST] opens with the text
/// <c>&lt;s&gt;</c>, tokenized as BOS) and <c>llama2-sys-strip</c> (contents trimmed). The prompt ends at <c>[/INST]</c>;
/// there is no separate generation prompt. The first BOS comes from the tokenizer.
/// </summary>
internal sealed class Llama2Template(string name, bool systemMessage, bool bosInsideHistory, bool strip)
    : ChatTemplate(name, "</s>")
{
    private protected override void RenderTo(StringBuilder sb, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        bool insideTurn = true;
        sb.Append("[INST] ");
        foreach (var m in messages)
        {
            string content = strip ? Trim(m.Content) : m.Content;
            if (!insideTurn)
            {
                insideTurn = true;
                sb.Append(bosInsideHistory ? "<s>[INST] " : "[INST] ");
            }
            switch (m.Role)
            {
                case ChatMessage.System when systemMessage:
                    sb.Append("<<SYS>>\n").Append(content).Append("\n<</SYS>>\n\n");
                    break;
                case ChatMessage.System:
                    sb.Append(content).Append('\n');
                    break;
                case ChatMessage.User:
                    sb.Append(content).Append(" [/INST]");
                    break;
                default:
                    sb.Append(content).Append("</s>");
                    insideTurn = false;
                    break;
            }
        }
    }
}
