namespace Cairn.Node.Provider;

/// <summary>Settings of <c>cairn node</c>.</summary>
public sealed record ProviderOptions
{
    /// <summary>The gateway's gRPC address, e.g. http://127.0.0.1:5001.</summary>
    public required string Gateway { get; init; }
    public required IReadOnlyList<string> Models { get; init; }
    public string? Tokenizer { get; init; }
    public string? ChatTemplate { get; init; }
    /// <summary>Port of the provider's gRPC server on 127.0.0.1; 0 picks a free one.</summary>
    public int Port { get; init; }
    public int Threads { get; init; } = 1;
    public ulong PricePerToken { get; init; } = 1;
    /// <summary>FAULT INJECTION for tests (hidden <c>--fault</c>); <see cref="ProviderFaults.None"/> in real use.</summary>
    public ProviderFaults Faults { get; init; } = ProviderFaults.None;
}
