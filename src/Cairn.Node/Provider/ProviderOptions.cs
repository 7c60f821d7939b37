namespace Cairn.Node.Provider;

/// <summary>Settings of <c>cairn node</c>.</summary>
public sealed record ProviderOptions
{
    /// <summary>The gateway's gRPC address, e.g. http://127.0.0.1:5001.</summary>
    public required string Gateway { get; init; }
    public required IReadOnlyList<string> Models { get; init; }
    /// <summary>LoRA adapter files (<c>--adapter FILE</c>, repeatable): each is attached to every served model it fits, and must fit one.</summary>
    public IReadOnlyList<string> Adapters { get; init; } = [];
    public string? Tokenizer { get; init; }
    public string? ChatTemplate { get; init; }
    /// <summary>Port of the provider's gRPC server on 127.0.0.1; 0 picks a free one.</summary>
    public int Port { get; init; }
    public int Threads { get; init; } = 1;
    public ulong PricePerToken { get; init; } = 1;
    /// <summary>Serve only layers [Start, End) of the model as a pipeline stage (<c>--layers A:B</c>); null: the whole model.</summary>
    public (int Start, int End)? Layers { get; init; }
    /// <summary>Memory budget in bytes (<c>--memory 300MB</c>): the provider refuses to start if its weights and a full-context KV cache exceed it.</summary>
    public long? MemoryBudget { get; init; }
    /// <summary>A flexible stage (<c>--layers auto</c>): loads any range the gateway assigns within <see cref="MemoryBudget"/>.</summary>
    public bool Flexible { get; init; }
    /// <summary>Emulates a slower device (<c>--slowdown 2.5</c>): each stage step is padded to X × the time calibrated for this machine (docs/pipeline.md).</summary>
    public double Slowdown { get; init; } = 1;
    /// <summary>FAULT INJECTION for tests (hidden <c>--fault</c>); <see cref="ProviderFaults.None"/> in real use.</summary>
    public ProviderFaults Faults { get; init; } = ProviderFaults.None;
}
