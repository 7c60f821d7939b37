using System.Text.Json.Serialization;

namespace Cairn.Node.Gateway;

public sealed record ProviderHealth(string Id, bool Healthy, double Reputation, int Active, long Served);

public sealed record HealthReport(string Status, int HealthyProviders, int KnownProviders, string[] Models, int Receipts, ProviderHealth[] Providers);

public sealed record ModelEntry(string Id, string Object, long Created, [property: JsonPropertyName("owned_by")] string OwnedBy);

public sealed record ModelList(string Object, ModelEntry[] Data);

public sealed record ReceiptView(string Id, string Model, string Provider, string RequestHash, string OutputCommitment, string TraceRoot,
    int PromptTokens, int CompletionTokens, ulong Price, string EngineBuild, string RequestHex, string ReceiptHex, string[] Adapters)
{
    /// <summary>A pipelined answer: each stage's signed part of the trace, in layer order; null otherwise.</summary>
    public StagePartView[]? StageParts { get; init; }
}

/// <summary>One stage's signed part of a pipelined answer's trace (<c>cairn.stage-part</c>, docs/protocol.md), with its canonical bytes.</summary>
public sealed record StagePartView(string Provider, int FirstLayer, int EndLayer, int Steps, string PartRoot, int[] Tokens, string PartHex);

/// <summary>One registered model or adapter as <c>GET /v1/contributions</c> lists it (docs/contributions.md).</summary>
public sealed record ContributionView(string Kind, string Name, string Entry, string FileSha256, string? BaseModel, int RoyaltyBps, string License,
    string Payout, string Publisher, string Visibility, string[] AllowedProviders, long Sequence, string EntryHex);

public sealed record ContributionList(string Object, ContributionView[] Data);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(HealthReport))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(ReceiptView))]
[JsonSerializable(typeof(ChallengeReport))]
[JsonSerializable(typeof(ContributionList))]
internal sealed partial class GatewayJson : JsonSerializerContext;
