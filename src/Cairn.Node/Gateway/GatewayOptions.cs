namespace Cairn.Node.Gateway;

/// <summary>Settings of <c>cairn gateway</c>.</summary>
public sealed record GatewayOptions
{
    /// <summary>Port of the OpenAI-compatible HTTP API on 127.0.0.1; 0 picks a free one.</summary>
    public int Port { get; init; } = 8080;
    /// <summary>Port of the gRPC endpoint providers register with; 0 picks a free one.</summary>
    public int GrpcPort { get; init; }
    /// <summary>API keys and the client account each one maps to.</summary>
    public required IReadOnlyDictionary<string, string> ApiKeys { get; init; }
    /// <summary>Folder for receipts (and, later, the ledger).</summary>
    public required string DataDirectory { get; init; }
    public long MaxRequestBodyBytes { get; init; } = 1 << 20;
    /// <summary>A provider that sends nothing for this long during a generation is treated as failed.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Providers tried for one request before giving up.</summary>
    public int MaxAttempts { get; init; } = 3;
}
