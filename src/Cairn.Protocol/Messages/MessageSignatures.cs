using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Validation;

namespace Cairn.Protocol.Messages;

/// <summary>The one signature check every signed message uses: present, recoverable (low-s, v 27/28), and by the named signer.</summary>
internal static class MessageSignatures
{
    public static ValidationResult Verify(string message, Hash256 hash, Signature signature, Address expected, string role)
    {
        if (signature.IsEmpty) return ValidationResult.Fail(ProtocolErrors.Unsigned, $"{message} is not signed");
        var signer = Secp256k1Key.RecoverAddress(hash, signature);
        if (signer is null) return ValidationResult.Fail(ProtocolErrors.BadSignature, $"{message} signature is not a valid low-s secp256k1 signature with v 27 or 28");
        if (signer.Value != expected) return ValidationResult.Fail(ProtocolErrors.WrongSigner, $"{message} was signed by {signer.Value}, not by its {role} {expected}");
        return ValidationResult.Ok;
    }
}
