using System.ClientModel;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Cairn.Node.Tests.TestSupport;
using OpenAI.Chat;

namespace Cairn.Node.Tests.Gateway;

/// <summary>Bad requests get OpenAI's error object with the right status, and change nothing (no receipt, no work).</summary>
[Collection(DevnetCollection.Name)]
public sealed class BadInputTests(DevnetFixture fixture)
{
    private Devnet Net => fixture.Net;

    public static TheoryData<string, string, int, string?, string?> BadBodies => new()
    {
        // path, body, status, param, code
        { "/v1/chat/completions", "{\"model\": \"aidreams260K\", \"messages\": [", 400, null, null },
        { "/v1/completions", "not json at all", 400, null, null },
        { "/v1/chat/completions", "[1, 2]", 400, null, null },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", 400, "model", null },
        { "/v1/completions", "{\"model\": \"aidreams260K\"}", 400, "prompt", null },
        { "/v1/chat/completions", "{\"model\": \"aidreams260K\", \"messages\": []}", 400, "messages", null },
        { "/v1/chat/completions", "{\"model\": \"aidreams260K\", \"messages\": [{\"role\": \"wizard\", \"content\": \"hi\"}]}", 400, "messages[0].role", null },
        { "/v1/chat/completions", "{\"model\": \"gpt-17\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", 404, "model", "model_not_found" },
        { "/v1/completions", "{\"model\": \"aidreams260K\", \"prompt\": \"hi\", \"max_tokens\": -1}", 400, "max_tokens", null },
        { "/v1/completions", "{\"model\": \"aidreams260K\", \"prompt\": \"hi\", \"max_tokens\": 1e12}", 400, "max_tokens", null },
        { "/v1/completions", "{\"model\": \"aidreams260K\", \"prompt\": \"hi\", \"temperature\": 5}", 400, "temperature", null },
        { "/v1/completions", "{\"model\": \"aidreams260K\", \"prompt\": \"hi\", \"temperature\": -0.5}", 400, "temperature", null },
        { "/v1/completions", "{\"model\": \"aidreams260K\", \"prompt\": \"hi\", \"top_p\": 1.5}", 400, "top_p", null },
        { "/v1/completions", "{\"model\": \"aidreams260K\", \"prompt\": \"hi\", \"n\": 2}", 400, "n", null },
        { "/v1/completions", "{\"model\": \"aidreams260K\", \"prompt\": \"hi\", \"seed\": \"seven\"}", 400, "seed", null },
        { "/v1/completions", "{\"model\": \"aidreams260K\", \"prompt\": \"hi\", \"stop\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}", 400, "stop", null },
        { "/v1/completions", "{\"model\": \"aidreams260K\", \"prompt\": \"hi\", \"stream\": \"yes\"}", 400, "stream", null },
        { "/v1/completions", "{\"model\": \"aidreams260K\", \"prompt\": \"" + string.Concat(Enumerable.Repeat("the sea and the sky ", 200)) + "\"}", 400, "prompt", "context_length_exceeded" },
        { "/v1/chat/completions", "{\"model\": \"aidreams260K\", \"messages\": [{\"role\": \"user\", \"content\": \"" + string.Concat(Enumerable.Repeat("the sea and the sky ", 200)) + "\"}]}", 400, "messages", "context_length_exceeded" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task A_bad_request_body_gets_an_error_object_and_changes_nothing(string path, string body, int status, string? param, string? code)
    {
        var before = await Net.HealthAsync();

        using var response = await Net.Http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));

        await AssertError(response, status, param, code);
        Assert.Equal(before, await Net.HealthAsync());
    }

    [Fact]
    public async Task The_SDK_sees_an_unknown_model_as_a_404_with_code_model_not_found()
    {
        var chat = Net.OpenAi().GetChatClient("no-such-model");
        var e = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(404, e.Status);
        Assert.Contains("model_not_found", e.Message);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("sk-wrong-key-000000")]
    [InlineData("")]
    public async Task A_missing_or_wrong_API_key_is_a_401_and_changes_nothing(string? key)
    {
        var before = await Net.HealthAsync();
        foreach (var (method, path) in new[] { (HttpMethod.Post, "/v1/chat/completions"), (HttpMethod.Post, "/v1/completions"), (HttpMethod.Get, "/v1/models") })
        {
            using var request = new HttpRequestMessage(method, path);
            if (method == HttpMethod.Post) request.Content = new StringContent("{\"model\":\"aidreams260K\",\"prompt\":\"hi\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", Encoding.UTF8, "application/json");
            request.Headers.Authorization = key is null ? new AuthenticationHeaderValue("Bearer", "x") : new AuthenticationHeaderValue("Bearer", key);
            if (key is null) request.Headers.Authorization = null;
            using var response = await SendWithoutDefaultKey(request);
            await AssertError(response, 401, null, "invalid_api_key");
        }
        Assert.Equal(before, await Net.HealthAsync());
    }

    [Fact]
    public async Task The_SDK_with_a_wrong_API_key_gets_a_401()
    {
        var e = await Assert.ThrowsAsync<ClientResultException>(() => Net.OpenAi("sk-not-the-key").GetOpenAIModelClient().GetModelsAsync());
        Assert.Equal(401, e.Status);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_body_over_1_MiB_is_a_413_whether_its_length_is_declared_or_chunked(bool declareLength)
    {
        var before = await Net.HealthAsync();
        string body = "{\"model\": \"aidreams260K\", \"prompt\": \"" + new string('a', 3 << 20) + "\"}";
        HttpContent content = declareLength
            ? new StringContent(body, Encoding.UTF8, "application/json")
            : new ChunkedContent(Encoding.UTF8.GetBytes(body));

        using var response = await Net.Http.PostAsync("/v1/completions", content);

        await AssertError(response, 413, null, "request_too_large");
        Assert.Equal(before, await Net.HealthAsync());
    }

    [Theory]
    [InlineData("GET", "/v1/nothing-here")]
    [InlineData("POST", "/v2/chat/completions")]
    [InlineData("GET", "/dashboard/no-such-page/deeper")]
    public async Task An_unknown_route_is_a_404_error_object(string method, string path)
    {
        using var response = await Net.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        await AssertError(response, 404, null, null);
    }

    private async Task<HttpResponseMessage> SendWithoutDefaultKey(HttpRequestMessage request)
    {
        using var http = new HttpClient { BaseAddress = new Uri(Net.Api), Timeout = TimeSpan.FromSeconds(30) };
        return await http.SendAsync(request);
    }

    private static async Task AssertError(HttpResponseMessage response, int status, string? param, string? code)
    {
        string json = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"expected {status}, got {(int)response.StatusCode}: {json}");
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(json);
        var error = doc.RootElement.GetProperty("error");
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.Equal(status >= 500 ? "server_error" : "invalid_request_error", error.GetProperty("type").GetString());
        if (param != null) Assert.Equal(param, error.GetProperty("param").GetString());
        if (code != null) Assert.Equal(code, error.GetProperty("code").GetString());
    }

    /// <summary>A body sent with <c>Transfer-Encoding: chunked</c> and no Content-Length, so only the server's reading limit can stop it.</summary>
    private sealed class ChunkedContent(byte[] bytes) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            for (int i = 0; i < bytes.Length; i += 64 << 10) await stream.WriteAsync(bytes.AsMemory(i, Math.Min(64 << 10, bytes.Length - i)));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
