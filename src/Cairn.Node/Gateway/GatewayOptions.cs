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

    /// <summary>Re-plan a flexible pipeline when the running plan, costed with measured speeds, is worse than a fresh plan by more than this fraction.</summary>
    public double ReplanThreshold { get; init; } = 0.2;
    /// <summary>What the pipeline planner minimizes: per-token latency of one stream (default) or the bottleneck (throughput).</summary>
    public Cairn.Planner.PlanObjective PipelineObjective { get; init; } = Cairn.Planner.PlanObjective.MinLatency;
    /// <summary>The split of flexible pipelines: the planner's (default), or a baseline for comparisons.</summary>
    public Pipeline.PipelineSplit PipelineSplit { get; init; } = Pipeline.PipelineSplit.Planner;
    /// <summary>Link latency per hop assumed before it is measured (seconds).</summary>
    public double PipelineLinkLatency { get; init; } = 0.001;

    /// <summary>p of Proof of Sampling: the chance that a settled receipt is challenged (DESIGN.md §4); zero (the default) switches challenges off.</summary>
    public Cairn.Protocol.Sampling.Probability ChallengeRate { get; init; } = Cairn.Protocol.Sampling.Probability.Zero;
    /// <summary>R_V: paid from the validator pool for a challenge that matched, R_V / n to each of the n validators (at most what the pool holds).</summary>
    public long ValidatorReward { get; init; } = 100;
    /// <summary>R_A: paid from the validator pool to the asserter of a challenged receipt that every validator reproduced.</summary>
    public long AsserterReward { get; init; }
    /// <summary>The client's challenge discount: paid back from the validator pool to the client whose request was challenged and matched.</summary>
    public long ClientDiscount { get; init; }
    /// <summary>S: taken from the stake of an asserter whose output a validator did not reproduce; null means the minimum stake.</summary>
    public long? Slash { get; init; }
    /// <summary>C: the cost of the honest work a cheater saves on one request, for the safety check <c>p(1 − r)(R_A + S) &gt; C</c>.</summary>
    public long WorkCost { get; init; } = 10_000;
    /// <summary>n: validators drawn for each challenged receipt (stake-weighted); each that disagrees is disputed separately.</summary>
    public int Validators { get; init; } = 1;
    /// <summary>
    /// Model files the gateway loads to referee disputes (<c>--model</c>), never to serve; a request naming a model that
    /// is not here falls back to a tie-breaker re-execution.
    /// </summary>
    public IReadOnlyList<string> RefereeModels { get; init; } = [];
    /// <summary>
    /// LoRA adapter files the referee applies (<c>--adapter</c>), keyed by their SHA-256 like providers key them; a
    /// challenged request naming an adapter that is not here falls back to a tie-breaker re-execution.
    /// </summary>
    public IReadOnlyList<string> RefereeAdapters { get; init; } = [];
    /// <summary>Threads of the referee's transformer (never changes a bit).</summary>
    public int RefereeThreads { get; init; } = 1;
    /// <summary>r: the assumed share of colluding stake, for the safety check.</summary>
    public Cairn.Protocol.Sampling.Probability Collusion { get; init; } = Cairn.Protocol.Sampling.Probability.Zero;

    /// <summary>The Proof of Sampling parameters these options give, with the ledger's minimum stake.</summary>
    public Cairn.Protocol.Sampling.SafetyParameters Safety(long minimumStake) => new()
    {
        ChallengeProbability = ChallengeRate,
        Validators = Validators,
        AsserterReward = (ulong)Math.Max(0, AsserterReward),
        ValidatorReward = (ulong)Math.Max(0, ValidatorReward),
        Slash = (ulong)Math.Max(0, Slash ?? minimumStake),
        MinimumStake = (ulong)Math.Max(0, minimumStake),
        Collusion = Collusion,
        Cost = (ulong)Math.Max(0, WorkCost),
    };
}
