namespace Cairn.Node.Provider;

internal static partial class ProviderLog
{
    [LoggerMessage(1, LogLevel.Information, "{Request}: {Model}, {PromptTokens}+{CompletionTokens} tokens, {Reason}")]
    public static partial void Served(ILogger log, string request, string model, int promptTokens, int completionTokens, string reason);

    [LoggerMessage(2, LogLevel.Information, "registered with {Gateway} as {Id}: {Models}, {DecodeTokS:F1} tok/s decode")]
    public static partial void Registered(ILogger log, string gateway, string id, string models, double decodeTokS);

    [LoggerMessage(3, LogLevel.Warning, "gateway {Gateway} unreachable or refused: {Error}; retrying")]
    public static partial void RegisterFailed(ILogger log, string gateway, string error);
}
