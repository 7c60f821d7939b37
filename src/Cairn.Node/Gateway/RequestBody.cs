using Cairn.Node.Gateway.OpenAi;
using Microsoft.AspNetCore.Http.Features;

namespace Cairn.Node.Gateway;

/// <summary>
/// Reads a request body up to a limit; a larger body is refused with 413. A body of up to <see cref="DrainLimit"/> bytes
/// is still read to its end (and discarded) before the 413 goes out: clients that send the whole body before they read
/// the answer (.NET's HttpClient, hence the OpenAI SDK) would otherwise see a broken connection instead of the error.
/// </summary>
public static class RequestBody
{
    public const long DrainLimit = 16 << 20;

    public static async Task<byte[]> Read(HttpContext ctx, long limit)
    {
        long drain = Math.Max(limit, DrainLimit);
        if (ctx.Request.ContentLength > drain) throw TooLarge(limit);
        var feature = ctx.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false }) feature.MaxRequestBodySize = drain;
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[16 << 10];
        long total = 0;
        try
        {
            int n;
            while ((n = await ctx.Request.Body.ReadAsync(chunk, ctx.RequestAborted)) > 0)
            {
                total += n;
                if (total <= limit) buffer.Write(chunk, 0, n);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge(limit);
        }
        return total > limit ? throw TooLarge(limit) : buffer.ToArray();
    }

    private static OpenAiError TooLarge(long limit) => OpenAiError.TooLarge($"the request body is larger than {limit} bytes");
}
