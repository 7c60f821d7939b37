using Cairn.Engine.Adapters;
using Cairn.Engine.Sampling;

namespace Cairn.Engine.Generation;

public sealed record GenerationOptions
{
    public int MaxTokens { get; init; } = 128;
    public SamplingOptions Sampling { get; init; } = new();
    /// <summary>Prompt tokens processed per forward call; 0 means <see cref="Inference.Transformer.DefaultPrefillChunk"/>. Never changes a bit of the result.</summary>
    public int PrefillChunk { get; init; }
    /// <summary>
    /// Layer boundaries at which the forward pass is cut into separate <c>RunLayers</c> calls, as pipeline stages would
    /// run it (e.g. [1, 3] runs layers [0,1), [1,3), [3,L)). Never changes a bit of the result.
    /// </summary>
    public int[] LayerSplits { get; init; } = [];
    /// <summary>Record per-layer hashes and compute the trace root and output commitment.</summary>
    public bool Commitment { get; init; }
    /// <summary>LoRA adapters applied in this order, each added after the base product (docs/adapters.md); empty: none.</summary>
    public IReadOnlyList<LoraAdapter> Adapters { get; init; } = [];
    /// <summary>Stop at the tokenizer's end-of-generation tokens (EOS, EOT).</summary>
    public bool StopAtEndOfGeneration { get; init; } = true;
    /// <summary>
    /// FAULT INJECTION (tests only; null in real use): when set, the i-th generated token is <c>TokenOverride(i)</c>
    /// instead of the sampler's choice (the sampler is not run); the token is still fed to the model and traced.
    /// </summary>
    public Func<int, int>? TokenOverride { get; init; }
}
