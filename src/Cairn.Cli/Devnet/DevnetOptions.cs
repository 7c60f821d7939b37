namespace Cairn.Cli.Devnet;

internal sealed record DevnetOptions
{
    public int Providers { get; init; } = 4;
    public string? Model { get; init; }
    public string? Tokenizer { get; init; }
    public string? ChatTemplate { get; init; }
    public int Port { get; init; } = 8080;
    public string? ApiKey { get; init; }
    public string DataDirectory { get; init; } = "devnet-data";
    public bool Demo { get; init; }
    /// <summary>The gateway's --work-cost (C in the safety check); null: the gateway's default.</summary>
    public long? WorkCost { get; init; }
    /// <summary>Chat completions the demo sends.</summary>
    public int DemoRequests { get; init; } = 24;
    public int? ThreadsPerProvider { get; init; }
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromMinutes(3);
    /// <summary>The last <see cref="Cheaters"/> providers run with the test-only fault <see cref="Strategy"/>.</summary>
    public int Cheaters { get; init; }
    /// <summary>A cheating strategy, one of <see cref="CheatingStrategy.All"/>.</summary>
    public string Strategy { get; init; } = "wrong-seed";
    /// <summary>The gateway's --challenge-rate; null: 0.2 with cheaters, else off.</summary>
    public string? ChallengeRate { get; init; }
    public string EffectiveChallengeRate => ChallengeRate ?? (Cheaters > 0 ? "0.2" : "0");
}
