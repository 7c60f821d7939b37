namespace Cairn.Engine.Generation;

public sealed record GenerationResult
{
    public required int[] PromptTokens { get; init; }
    public required int[] Tokens { get; init; }
    /// <summary>"stop" (an end-of-generation token), "length" (max tokens) or "context" (the context is full).</summary>
    public required string StopReason { get; init; }
    public TimeSpan PrefillTime { get; init; }
    public TimeSpan DecodeTime { get; init; }
    /// <summary>SHA-256 over every logits vector the sampler saw (fp32 little-endian), in order.</summary>
    public required byte[] LogitsHash { get; init; }
    public byte[]? TraceRoot { get; init; }
    public byte[]? OutputCommitment { get; init; }

    /// <summary>The result of a finished sequence: its trace root and output commitment when its session was traced.</summary>
    internal static GenerationResult Finish(int[] prompt, List<int> generated, string stopReason, TimeSpan prefill, TimeSpan decode,
        System.Security.Cryptography.IncrementalHash logitsHash, Inference.Session session)
    {
        byte[]? traceRoot = session.Trace?.TraceRoot();
        int[] tokens = generated.ToArray();
        return new GenerationResult
        {
            PromptTokens = prompt,
            Tokens = tokens,
            StopReason = stopReason,
            PrefillTime = prefill,
            DecodeTime = decode,
            LogitsHash = logitsHash.GetHashAndReset(),
            TraceRoot = traceRoot,
            OutputCommitment = traceRoot is null ? null : Commitments.OutputCommitment.Compute(tokens, traceRoot),
        };
    }
}
