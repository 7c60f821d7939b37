using System.Text;

namespace Cairn.Engine.Chat;

/// <summary>Phi-4: ChatML with <c>&lt;|im_sep|&gt;</c> after the role and no newlines.</summary>
internal sealed class Phi4Template() : ChatTemplate("phi4", "<|im_end|>")
{
    private protected override void RenderTo(StringBuilder sb, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        foreach (var m in messages) sb.Append("<|im_start|>").Append(m.Role).Append("<|im_sep|>").Append(m.Content).Append("<|im_end|>");
        if (addGenerationPrompt) sb.Append("<|im_start|>assistant<|im_sep|>");
    }
}
