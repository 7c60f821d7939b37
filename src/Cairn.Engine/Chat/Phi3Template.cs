using System.Text;

namespace Cairn.Engine.Chat;

/// <summary>Phi-3 / Phi-3.5: <c>&lt;|role|&gt;\ncontent&lt;|end|&gt;\n</c> per turn, system turns kept.</summary>
internal sealed class Phi3Template() : ChatTemplate("phi3", "<|end|>")
{
    private protected override void RenderTo(StringBuilder sb, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        foreach (var m in messages) sb.Append("<|").Append(m.Role).Append("|>\n").Append(m.Content).Append("<|end|>\n");
        if (addGenerationPrompt) sb.Append("<|assistant|>\n");
    }
}
