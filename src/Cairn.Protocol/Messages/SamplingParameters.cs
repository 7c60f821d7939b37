namespace Cairn.Protocol.Messages;

/// <summary>
/// The sampling parameters a request fixes, mirroring the engine's sampler (DESIGN.md §3 rule 6). Floats travel as
/// their IEEE 754 bits so a validator re-executes with exactly the provider's values. Defaults are llama.cpp's.
/// </summary>
public readonly record struct SamplingParameters
{
    public SamplingParameters()
    {
    }

    /// <summary>0 means greedy.</summary>
    public float Temperature { get; init; } = 0.8f;

    /// <summary>Keep the K most likely tokens; 0 keeps all.</summary>
    public int TopK { get; init; } = 40;

    public float TopP { get; init; } = 0.95f;

    public float MinP { get; init; } = 0.05f;

    /// <summary>1 disables the repetition penalty.</summary>
    public float RepeatPenalty { get; init; } = 1f;

    /// <summary>How many recent tokens the repetition penalty looks at.</summary>
    public int RepeatLastN { get; init; } = 64;

    public static SamplingParameters Greedy => new() { Temperature = 0f };

    /// <summary>The engine's ranges; null when all are in range, else a message naming the parameter.</summary>
    public string? Check()
    {
        if (!(Temperature >= 0 && Temperature <= 100)) return $"temperature {Temperature} is out of range [0, 100]";
        if (TopK < 0) return $"top_k {TopK} is negative";
        if (!(TopP > 0 && TopP <= 1)) return $"top_p {TopP} is out of range (0, 1]";
        if (!(MinP >= 0 && MinP <= 1)) return $"min_p {MinP} is out of range [0, 1]";
        if (!(RepeatPenalty > 0 && RepeatPenalty <= 10)) return $"repeat_penalty {RepeatPenalty} is out of range (0, 10]";
        if (RepeatLastN < 0) return $"repeat_last_n {RepeatLastN} is negative";
        return null;
    }
}
