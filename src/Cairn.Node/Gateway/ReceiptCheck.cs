using Cairn.Protocol.Messages;

namespace Cairn.Node.Gateway;

/// <summary>What the gateway demands of any receipt, an answer's or a validator's: it decodes, it answers this signed
/// request within its limits, and it is signed by the provider that was asked.</summary>
public static class ReceiptCheck
{
    /// <summary>The receipt, or null with the reason it is refused.</summary>
    public static Receipt? Check(ReadOnlySpan<byte> bytes, InferenceRequest request, string providerId, out string? failure)
    {
        failure = null;
        if (!Receipt.TryDecode(bytes, out var receipt, out var malformed)) failure = $"malformed receipt: {malformed}";
        else if (receipt!.Verify(request) is { IsValid: false } bad) failure = $"receipt refused: {bad}";
        else if (receipt.Provider.ToString() != providerId) failure = "the receipt is signed by another provider";
        return failure is null ? receipt : null;
    }
}
