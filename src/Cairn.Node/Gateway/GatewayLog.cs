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

    [LoggerMessage(6, LogLevel.Information, "challenge epoch {Epoch}: secret committed, Keccak-256 {Commitment}")]
    public static partial void EpochSecretCommitted(ILogger log, long epoch, string commitment);

    [LoggerMessage(7, LogLevel.Information, "challenge epoch {Epoch}: secret revealed {Secret}")]
    public static partial void EpochSecretRevealed(ILogger log, long epoch, string secret);

    [LoggerMessage(8, LogLevel.Information, "challenge of {RequestId}: asserter {Asserter}, validator {Validator}: {Verdict}; slashed {Slashed}, validator reward {Reward}")]
    public static partial void ChallengeVerdict(ILogger log, string requestId, string asserter, string validator, string verdict, long slashed, long reward);

    [LoggerMessage(9, LogLevel.Information, "challenge of {RequestId}: no other eligible provider of the model could validate {Asserter}")]
    public static partial void ChallengeUnvalidated(ILogger log, string requestId, string asserter);

    [LoggerMessage(10, LogLevel.Warning, "challenge of {RequestId}: validator {Validator} gave no usable answer: {Error}")]
    public static partial void ChallengeValidatorFailed(ILogger log, string requestId, string validator, string error);

    [LoggerMessage(11, LogLevel.Information, "dispute {DisputeId} of {RequestId}: {Kind} dispute, {Verdict}; {Detail}")]
    public static partial void DisputeSettled(ILogger log, string disputeId, string requestId, string kind, string verdict, string detail);
}
