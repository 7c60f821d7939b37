using System.Security.Cryptography;
using System.Text;
using Cairn.Node.Gateway.OpenAi;

namespace Cairn.Node.Gateway;

/// <summary><c>Authorization: Bearer KEY</c> → the client account the key maps to; constant-time comparison.</summary>
public static class ApiKeyAuth
{
    public static Cairn.Protocol.Identity.Address Authenticate(HttpContext ctx, GatewayOptions options)
    {
        string? header = ctx.Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header) || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            throw OpenAiError.Unauthorized("You didn't provide an API key. Send it as 'Authorization: Bearer KEY'.");
        byte[] given = Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim());
        foreach (var (key, client) in options.ApiKeys)
        {
            if (CryptographicOperations.FixedTimeEquals(given, Encoding.UTF8.GetBytes(key))) return client;
        }
        throw OpenAiError.Unauthorized("Incorrect API key provided.");
    }
}
