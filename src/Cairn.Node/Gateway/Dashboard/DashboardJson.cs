using System.Text.Json.Serialization;

namespace Cairn.Node.Gateway.Dashboard;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(NetworkView))]
[JsonSerializable(typeof(FeedEntry[]))]
[JsonSerializable(typeof(BalanceSample[]))]
[JsonSerializable(typeof(PipelineView))]
internal sealed partial class DashboardJson : JsonSerializerContext;
