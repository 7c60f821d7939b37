namespace Cairn.Node.Gateway;

internal static partial class GatewayLog
{
    [LoggerMessage(1, LogLevel.Information, "provider {Id} registered at {Endpoint} with {Models} ({DecodeTokS:F1} tok/s)")]
    public static partial void ProviderRegistered(ILogger log, string id, string endpoint, string models, double decodeTokS);

    [LoggerMessage(2, LogLevel.Warning, "provider {Id} refused: {Error}")]
    public static partial void ProviderRefused(ILogger log, string id, string error);

    [LoggerMessage(3, LogLevel.Warning, "provider {Id} failed on request {RequestId}, attempt {Attempt}: {Error}")]
    public static partial void ProviderFailed(ILogger log, string id, string requestId, int attempt, string error);

    [LoggerMessage(4, LogLevel.Information, "{RequestId}: {Model} via {Provider}, {PromptTokens}+{CompletionTokens} tokens, {Reason}")]
    public static partial void Served(ILogger log, string requestId, string model, string provider, int promptTokens, int completionTokens, string reason);

    [LoggerMessage(5, LogLevel.Information, "ledger epoch {Epoch} closed, root {Root}")]
    public static partial void EpochClosed(ILogger log, long epoch, string root);
}
