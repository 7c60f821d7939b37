using System.Diagnostics.CodeAnalysis;

namespace Cairn.Protocol.Validation;

/// <summary>The outcome of a check: valid, or a stable <see cref="ProtocolErrors"/> code and a message naming the field.</summary>
public readonly record struct ValidationResult
{
    private ValidationResult(string? code, string? message)
    {
        Code = code;
        Message = message;
    }

    public static ValidationResult Ok => default;

    /// <summary>One of <see cref="ProtocolErrors"/>, or null when valid.</summary>
    public string? Code { get; }

    public string? Message { get; }

    [MemberNotNullWhen(false, nameof(Code), nameof(Message))]
    public bool IsValid => Code is null;

    public static ValidationResult Fail(string code, string message) => new(code, message);

    public override string ToString() => IsValid ? "valid" : $"{Code}: {Message}";
}
