using System.Text;

namespace Cairn.Engine.Chat;

/// <summary>
/// Llama 3 / 3.1 / 3.2 instruct: <c>&lt;|start_header_id|&gt;role&lt;|end_header_id|&gt;\n\ncontent&lt;|eot_id|&gt;</c>,
/// content trimmed. <c>&lt;|begin_of_text|&gt;</c> is the tokenizer's BOS, not part of the text (see <see cref="ChatTemplate"/>).
/// </summary>
internal sealed class Llama3Template() : ChatTemplate("llama3", "<|eot_id|>")
{
    private protected override void RenderTo(StringBuilder sb, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        foreach (var m in messages)
            sb.Append("<|start_header_id|>").Append(m.Role).Append("<|end_header_id|>\n\n").Append(Trim(m.Content)).Append("<|eot_id|>");
        if (addGenerationPrompt) sb.Append("<|start_header_id|>assistant<|end_header_id|>\n\n");
    }
}
