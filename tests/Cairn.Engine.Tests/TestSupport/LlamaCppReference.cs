using System.Globalization;

namespace Cairn.Engine.Tests.TestSupport;

/// <summary>A <c>*.ref.txt</c> file of ../shared/reference/models: llama.cpp's prompt tokens, greedy tokens and logits after the prompt.</summary>
public sealed record LlamaCppReference(int[] PromptTokens, int[] GreedyTokens, float[] Logits)
{
    public static LlamaCppReference Load(string path)
    {
        int[]? prompt = null, greedy = null;
        float[]? logits = null;
        foreach (string line in File.ReadLines(path))
        {
            string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0) continue;
            switch (parts[0])
            {
                case "prompt_tokens": prompt = parts[1..].Select(int.Parse).ToArray(); break;
                case "greedy_tokens": greedy = parts[1..].Select(int.Parse).ToArray(); break;
                case "logits_after_prompt":
                    int n = int.Parse(parts[1], CultureInfo.InvariantCulture);
                    logits = parts[2..].Select(s => float.Parse(s, CultureInfo.InvariantCulture)).ToArray();
                    Assert.Equal(n, logits.Length);
                    break;
            }
        }
        return new LlamaCppReference(prompt ?? throw new InvalidDataException(path + ": no prompt_tokens"),
            greedy ?? throw new InvalidDataException(path + ": no greedy_tokens"), logits ?? throw new InvalidDataException(path + ": no logits"));
    }
}
