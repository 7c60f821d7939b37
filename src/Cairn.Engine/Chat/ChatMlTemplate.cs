using System.Text;

namespace Cairn.Engine.Chat;

/// <summary>ChatML (Qwen, OpenHermes, Yi, SmolLM…): <c>&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n</c> per turn.</summary>
/// <remarks>Qwen2's Jinja adds a default system turn when the conversation has none; llama.cpp's chatml, and so this, does not.</remarks>
internal sealed class ChatMlTemplate() : ChatTemplate("chatml", "<|im_end|>")
{
    private protected override void RenderTo(StringBuilder sb, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        foreach (var m in messages) sb.Append("<|im_start|>").Append(m.Role).Append('\n').Append(m.Content).Append("<|im_end|>\n");
        if (addGenerationPrompt) sb.Append("<|im_start|>assistant\n");
    }
}
