using System.Text.Json.Serialization;

namespace Cairn.Node.Gateway;

public sealed record ProviderHealth(string Id, bool Healthy, double Reputation, int Active, long Served);

public sealed record HealthReport(string Status, int HealthyProviders, int KnownProviders, string[] Models, int Receipts, ProviderHealth[] Providers);

public sealed record ModelEntry(string Id, string Object, long Created, [property: JsonPropertyName("owned_by")] string OwnedBy);

public sealed record ModelList(string Object, ModelEntry[] Data);

public sealed record ReceiptView(string Id, string Model, string Provider, string RequestHash, string OutputCommitment, string TraceRoot,
    int PromptTokens, int CompletionTokens, ulong Price, string EngineBuild, string RequestHex, string ReceiptHex, string[] Adapters);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(HealthReport))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(ReceiptView))]
[JsonSerializable(typeof(ChallengeReport))]
internal sealed partial class GatewayJson : JsonSerializerContext;
