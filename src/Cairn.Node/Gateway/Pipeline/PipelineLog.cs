namespace Cairn.Node.Gateway.Pipeline;

internal static partial class PipelineLog
{
    [LoggerMessage(101, LogLevel.Information, "{RequestId}: pipeline {Chain}")]
    public static partial void Chain(ILogger log, string requestId, string chain);

    [LoggerMessage(102, LogLevel.Warning, "{RequestId}: stage {Stage} failed after {Generated} tokens: {Error}; replaying {Replayed} tokens on {Chain}")]
    public static partial void Failover(ILogger log, string requestId, string stage, int generated, string error, int replayed, string chain);

    [LoggerMessage(103, LogLevel.Information, "{Model}: re-planned {Before} -> {After}, predicted {PredictedMs:F1} ms per token: {Reason}")]
    public static partial void Replanned(ILogger log, string model, string before, string after, double predictedMs, string reason);
}
