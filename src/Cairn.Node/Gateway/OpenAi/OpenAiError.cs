using System.Text.Json;

namespace Cairn.Node.Gateway.OpenAi;

/// <summary>An error the API returns as OpenAI's error object, with its HTTP status.</summary>
public sealed class OpenAiError(int status, string message, string type, string? param = null, string? code = null) : Exception(message)
{
    public int Status { get; } = status;
    public string Type { get; } = type;
    public string? Param { get; } = param;
    public string? Code { get; } = code;

    public static OpenAiError BadRequest(string message, string? param = null, string? code = null) => new(400, message, "invalid_request_error", param, code);
    public static OpenAiError Unauthorized(string message) => new(401, message, "invalid_request_error", null, "invalid_api_key");
    public static OpenAiError NotFound(string message, string? param = null, string? code = null) => new(404, message, "invalid_request_error", param, code);
    public static OpenAiError TooLarge(string message) => new(413, message, "invalid_request_error", null, "request_too_large");
    public static OpenAiError Unavailable(string message) => new(503, message, "server_error", null, "no_provider");
    public static OpenAiError Upstream(string message) => new(502, message, "server_error", null, "provider_failed");

    public void WriteJson(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteStartObject("error");
        w.WriteString("message", Message);
        w.WriteString("type", Type);
        if (Param is null) w.WriteNull("param");
        else w.WriteString("param", Param);
        if (Code is null) w.WriteNull("code");
        else w.WriteString("code", Code);
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
