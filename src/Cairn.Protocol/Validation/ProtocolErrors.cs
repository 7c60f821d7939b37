namespace Cairn.Protocol.Validation;

/// <summary>
/// The stable error codes of the protocol layer, all in one place. Codes are part of the wire contract (a gateway
/// returns them to clients, a ledger stores them with verdicts): add new ones, never rename or reuse one.
/// </summary>
public static class ProtocolErrors
{
    /// <summary>The bytes end before the message does.</summary>
    public const string Truncated = "truncated";
    /// <summary>Bytes remain after a complete message.</summary>
    public const string TrailingBytes = "trailing_bytes";
    /// <summary>A length or count prefix exceeds the field's bound (checked before anything is allocated).</summary>
    public const string LengthOutOfRange = "length_out_of_range";
    /// <summary>The leading domain tag names another message type (or is not a tag at all).</summary>
    public const string WrongDomain = "wrong_domain";
    /// <summary>The version byte after the domain tag is one this build does not read.</summary>
    public const string UnsupportedVersion = "unsupported_version";
    /// <summary>A field holds a value its type cannot (invalid UTF-8, a count above int.MaxValue, …).</summary>
    public const string Malformed = "malformed";
    /// <summary>A parameter is outside its allowed range (temperature, top-p, max tokens, …).</summary>
    public const string InvalidParameter = "invalid_parameter";
    /// <summary>A receipt does not answer the request it is checked against (hash, token counts or price disagree).</summary>
    public const string RequestMismatch = "request_mismatch";
    /// <summary>The signature field is all zeros.</summary>
    public const string Unsigned = "unsigned";
    /// <summary>The signature is not a valid low-s secp256k1 signature with v = 27 or 28 (nothing can be recovered).</summary>
    public const string BadSignature = "bad_signature";
    /// <summary>The signature is valid but was made by a key other than the one the message names.</summary>
    public const string WrongSigner = "wrong_signer";
    /// <summary>The message is addressed to another party (a stage assignment meant for another stage).</summary>
    public const string WrongRecipient = "wrong_recipient";
    /// <summary>The message is not newer than the last one of its kind that was accepted (a replay).</summary>
    public const string Replayed = "replayed";
    /// <summary>The message's timestamp is too far from the receiver's clock.</summary>
    public const string Stale = "stale";
}
