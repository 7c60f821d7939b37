using Cairn.Node.Gateway.OpenAi;
using Microsoft.AspNetCore.Http.Features;

namespace Cairn.Node.Gateway;

/// <summary>Reads a request body up to a limit; larger bodies are refused with 413 before they are read whole.</summary>
public static class RequestBody
{
    public static async Task<byte[]> Read(HttpContext ctx, long limit)
    {
        if (ctx.Request.ContentLength > limit) throw OpenAiError.TooLarge($"the request body is larger than {limit} bytes");
        var feature = ctx.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false }) feature.MaxRequestBodySize = limit;
        using var buffer = new MemoryStream();
        try
        {
            await ctx.Request.Body.CopyToAsync(buffer, ctx.RequestAborted);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw OpenAiError.TooLarge($"the request body is larger than {limit} bytes");
        }
        return buffer.ToArray();
    }
}
