namespace Cairn.Node.Gateway;

/// <summary>Settings of <c>cairn gateway</c>.</summary>
public sealed record GatewayOptions
{
    /// <summary>Port of the OpenAI-compatible HTTP API on 127.0.0.1; 0 picks a free one.</summary>
    public int Port { get; init; } = 8080;
    /// <summary>Port of the gRPC endpoint providers register with; 0 picks a free one.</summary>
    public int GrpcPort { get; init; }
    /// <summary>API keys and the client account each one maps to (see <see cref="ClientOf"/>).</summary>
    public required IReadOnlyDictionary<string, Cairn.Protocol.Identity.Address> ApiKeys { get; init; }
    /// <summary>PostgreSQL connection string of a shared ledger; null keeps an SQLite ledger in the data folder.</summary>
    public string? Postgres { get; init; }
    /// <summary>Balance (micro-units) each API-key client starts with, once; 0 for none.</summary>
    public long InitialCredit { get; init; } = 1_000_000_000_000;
    /// <summary>Stake bonded once for a registering provider that has none; null means the ledger's minimum stake, 0 none.</summary>
    public long? GenesisStake { get; init; }

    /// <summary>The client account of an API key: the last 20 bytes of Keccak-256("cairn.apikey:" ‖ key).</summary>
    public static Cairn.Protocol.Identity.Address ClientOf(string apiKey) =>
        new(Cairn.Protocol.Crypto.Keccak256.Hash(System.Text.Encoding.UTF8.GetBytes("cairn.apikey:" + apiKey)).ToArray().AsSpan(12));
    /// <summary>Folder for receipts (and, later, the ledger).</summary>
    public required string DataDirectory { get; init; }
    public long MaxRequestBodyBytes { get; init; } = 1 << 20;
    /// <summary>A provider that sends nothing for this long during a generation is treated as failed.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Length of a ledger epoch: at its end payouts are batched and the journal's Merkle root recorded.</summary>
    public TimeSpan EpochLength { get; init; } = TimeSpan.FromHours(1);
    /// <summary>Providers tried for one request before giving up.</summary>
    public int MaxAttempts { get; init; } = 3;
}
