using Cairn.Protocol.Validation;

namespace Cairn.Protocol.Encoding;

/// <summary>Bytes that are not a canonical encoding; <see cref="Code"/> is one of <see cref="ProtocolErrors"/>.</summary>
public sealed class CanonicalFormatException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;

    public ValidationResult ToResult() => ValidationResult.Fail(Code, Message);
}
