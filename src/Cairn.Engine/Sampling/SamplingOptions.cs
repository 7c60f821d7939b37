namespace Cairn.Engine.Sampling;

/// <summary>
/// Sampling parameters. Defaults are llama.cpp's where it has one (top-k 40, top-p 0.95, min-p 0.05,
/// repetition penalty 1.0 over the last 64 tokens); temperature 0 means greedy.
/// </summary>
public sealed record SamplingOptions
{
    public float Temperature { get; init; } = 0.8f;
    /// <summary>Keep the K most likely tokens; 0 keeps all.</summary>
    public int TopK { get; init; } = 40;
    /// <summary>Keep the smallest set whose probability reaches P; 1 keeps all.</summary>
    public float TopP { get; init; } = 0.95f;
    /// <summary>Drop tokens whose probability is below MinP times the best one's; 0 keeps all.</summary>
    public float MinP { get; init; } = 0.05f;
    /// <summary>Divide positive (multiply negative) logits of recently seen tokens by this; 1 disables.</summary>
    public float RepeatPenalty { get; init; } = 1f;
    public int RepeatLastN { get; init; } = 64;
    public ulong Seed { get; init; }

    public static SamplingOptions Greedy { get; } = new() { Temperature = 0f };

    /// <summary>Checks ranges; returns an error message or null.</summary>
    public string? Validate()
    {
        if (!(Temperature >= 0 && Temperature <= 100)) return $"temperature {Temperature} is out of range (0 to 100)";
        if (TopK < 0) return $"top-k {TopK} is negative";
        if (!(TopP > 0 && TopP <= 1)) return $"top-p {TopP} is out of range (0, 1]";
        if (!(MinP >= 0 && MinP <= 1)) return $"min-p {MinP} is out of range [0, 1]";
        if (!(RepeatPenalty > 0 && RepeatPenalty <= 10)) return $"repeat penalty {RepeatPenalty} is out of range (0, 10]";
        if (RepeatLastN < 0) return $"repeat-last-n {RepeatLastN} is negative";
        return null;
    }
}
