using Cairn.Protocol.Encoding;
using Cairn.Protocol.Validation;

namespace Cairn.Protocol.Messages;

/// <summary>The one try-decode every message offers: a malformed encoding becomes a result value, not an exception.</summary>
internal static class MessageDecoding
{
    public delegate T Decoder<T>(ReadOnlySpan<byte> bytes);

    public static bool TryDecode<T>(ReadOnlySpan<byte> bytes, Decoder<T> decode, out T? message, out ValidationResult result) where T : class
    {
        try
        {
            message = decode(bytes);
            result = ValidationResult.Ok;
            return true;
        }
        catch (CanonicalFormatException e)
        {
            message = null;
            result = e.ToResult();
            return false;
        }
    }
}
