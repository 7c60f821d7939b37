using System.Text;

namespace Cairn.Engine.Chat;

/// <summary>
/// Zephyr (TinyLlama-Chat, zephyr-7b, StableLM-zephyr): <c>&lt;|role|&gt;\ncontent</c> + the end-of-turn text + <c>\n</c>.
/// The end-of-turn text is the model's EOS: <c>&lt;/s&gt;</c> for TinyLlama and zephyr-7b, <c>&lt;|endoftext|&gt;</c> for StableLM
/// (llama.cpp's built-in zephyr always writes the latter).
/// </summary>
internal sealed class ZephyrTemplate(string endOfTurn) : ChatTemplate("zephyr", endOfTurn)
{
    public string EndOfTurn { get; } = endOfTurn;

    private protected override void RenderTo(StringBuilder sb, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        foreach (var m in messages) sb.Append("<|").Append(m.Role).Append("|>\n").Append(m.Content).Append(EndOfTurn).Append('\n');
        if (addGenerationPrompt) sb.Append("<|assistant|>\n");
    }
}
