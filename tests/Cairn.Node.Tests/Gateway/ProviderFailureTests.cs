using System.Diagnostics;
using System.Text.Json;
using Cairn.Node.Tests.TestSupport;
using Xunit.Abstractions;

namespace Cairn.Node.Tests.Gateway;

/// <summary>
/// A provider process killed while it serves (SIGKILL, no goodbye): the gateway notices within seconds, routes around it,
/// retries every request that had not streamed anything yet, and ends the streams that had with an error event.
/// </summary>
public sealed class ProviderFailureTests(ITestOutputHelper output)
{
    private const int Requests = 8;
    private const int StallAfter = 3;
    /// <summary>The heartbeat timeout is 2 s; the gateway must notice a dead provider within this.</summary>
    private static readonly TimeSpan NoticeWithin = TimeSpan.FromSeconds(3);

    private static string Body(bool stream) => JsonSerializer.Serialize(new
    {
        model = Devnet.ModelName,
        prompt = "Once upon a time",
        max_tokens = 30,
        temperature = 0,
        stream,
        stream_options = stream ? new { include_usage = true } : null,
    });

    [Fact]
    public async Task Killing_a_provider_mid_stream_loses_no_request_that_had_not_streamed_and_ends_the_others_with_an_error()
    {
        // Provider 0 attracts all traffic (it claims to be fast) and freezes after StallAfter tokens, so that the kill
        // lands with the first requests part-way and the later ones not started.
        await using var net = await Devnet.StartAsync(providers: 2, $"stall-after-tokens:{StallAfter},claim-speed:1e9", null);
        var victim = net.Providers[0];
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var chat = net.OpenAi().GetChatClient(Devnet.ModelName);

        var early = SseAnswer.PostAsync(net.Http, "/v1/completions", Body(stream: true), bound.Token);
        var sdk = StreamWithSdk(chat, bound.Token);
        await victim.Process.WaitForLine($"fault: stalled after {StallAfter} tokens", TimeSpan.FromSeconds(30));
        var late = Enumerable.Range(0, Requests - 2).Select(_ => SseAnswer.PostAsync(net.Http, "/v1/completions", Body(stream: true), bound.Token)).ToArray();
        Assert.Equal(2, (await net.HealthAsync()).HealthyProviders);
        victim.Process.Kill();
        var noticed = await TimeUntil(net, h => h.HealthyProviders == 1, NoticeWithin);
        Assert.True(noticed != null, $"the gateway still counts the killed provider healthy {NoticeWithin.TotalSeconds} s later\n{net.Logs()}");
        output.WriteLine($"noticed after {noticed!.Value.TotalMilliseconds:F0} ms");
        var answers = (await Task.WhenAll(late.Prepend(early))).ToList();
        var sdkAnswer = await sdk;

        string expected = await Reference(net);
        string expectedChat = (await chat.CompleteChatAsync(ChatMessages, ChatOptions)).Value.Content[0].Text;
        var cut = answers.Where(a => a.ErrorEvent != null).ToList();
        var whole = answers.Where(a => a.Done).ToList();
        string details = string.Join("\n", answers.Select(a => $"status={a.Status} done={a.Done} aborted={a.Aborted} error={a.ErrorEvent ?? a.Error} text={a.Text}"))
            + $"\nsdk: {sdkAnswer}\n" + net.Logs();
        output.WriteLine($"{whole.Count} complete, {cut.Count} cut with an error event; SDK stream: {(sdkAnswer.Error is null ? "complete" : "cut")}");
        Assert.True(answers.All(a => a.Status == 200), details);
        Assert.True(cut.Count + whole.Count == answers.Count, "an answer neither completed nor ended with an error event:\n" + details);
        // Every request that had not streamed text when the provider died was retried and is complete and correct.
        Assert.True(late.All(t => t.Result.Done), details);
        Assert.All(whole, a => Assert.Equal(expected, a.Text));
        Assert.All(whole, a => Assert.Equal("length", a.FinishReason));
        // The streams that were part-way (at least one of the first two) end with an error event after a correct prefix,
        // then a cut connection: never [DONE], never a quiet end.
        Assert.True(cut.Count + (sdkAnswer.Error is null ? 0 : 1) >= 1, details);
        Assert.All(cut, a => Assert.StartsWith(a.Text, expected));
        Assert.All(cut, a => Assert.Contains("mid-stream", a.ErrorEvent));
        Assert.All(cut, a => Assert.True(a.Aborted));
        // The SDK sees either the whole answer (with its finish reason and usage) or an exception, never a short answer.
        if (sdkAnswer.Error is null) Assert.True(sdkAnswer.Finished && sdkAnswer.Text == expectedChat, details);
        else Assert.StartsWith(sdkAnswer.Text, expectedChat);
        Assert.Equal(whole.Count + (sdkAnswer.Error is null ? 1 : 0) + 2, (await net.HealthAsync()).Receipts);
    }

    private static readonly OpenAI.Chat.ChatMessage[] ChatMessages = [new OpenAI.Chat.UserChatMessage("Once upon a time")];
    private static readonly OpenAI.Chat.ChatCompletionOptions ChatOptions = new() { MaxOutputTokenCount = 30, Temperature = 0 };

    private sealed record SdkStream(string Text, bool Finished, string? Error);

    private static async Task<SdkStream> StreamWithSdk(OpenAI.Chat.ChatClient chat, CancellationToken cancel)
    {
        var text = new System.Text.StringBuilder();
        bool finished = false;
        try
        {
            await foreach (var u in chat.CompleteChatStreamingAsync(ChatMessages, ChatOptions, cancel))
            {
                foreach (var part in u.ContentUpdate) text.Append(part.Text);
                finished |= u.FinishReason != null;
            }
            return new SdkStream(text.ToString(), finished, null);
        }
        catch (Exception e) when (e is IOException or HttpRequestException or System.ClientModel.ClientResultException)
        {
            return new SdkStream(text.ToString(), finished, e.GetType().Name + ": " + e.Message);
        }
    }

    [Fact]
    public async Task Killing_an_idle_provider_is_noticed_from_its_missing_heartbeats_within_seconds_and_requests_go_to_the_other()
    {
        await using var net = await Devnet.StartAsync(providers: 2);
        Assert.Equal(2, (await net.HealthAsync()).HealthyProviders);

        net.Providers[0].Process.Kill();
        // No traffic: only the missing heartbeats can tell.
        var noticed = await TimeUntil(net, h => h.HealthyProviders == 1, NoticeWithin);
        output.WriteLine($"noticed {noticed?.TotalMilliseconds:F0} ms after the kill");

        Assert.True(noticed != null, $"the gateway still counts the killed provider healthy {NoticeWithin.TotalSeconds} s later\n{net.Logs()}");
        Assert.Equal((1, 2), ((await net.HealthAsync()).HealthyProviders, (await net.HealthAsync()).KnownProviders));
        string first = await Reference(net);
        for (int i = 0; i < 3; i++) Assert.Equal(first, await Reference(net));
        Assert.Equal(4, (await net.HealthAsync()).Receipts);
    }

    /// <summary>The non-streamed answer to the same greedy request, from whichever provider is left.</summary>
    private static async Task<string> Reference(Devnet net)
    {
        using var response = await net.Http.PostAsync("/v1/completions", new StringContent(Body(stream: false), System.Text.Encoding.UTF8, "application/json"));
        string json = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, json + "\n" + net.Logs());
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.GetProperty("choices")[0].GetProperty("text").GetString()!;
    }

    /// <summary>How long until /healthz satisfies <paramref name="condition"/>, polled; null if not within <paramref name="limit"/>.</summary>
    private static async Task<TimeSpan?> TimeUntil(Devnet net, Func<Devnet.Health, bool> condition, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            if (condition(await net.HealthAsync())) return clock.Elapsed;
            await Task.Delay(50);
        }
        return condition(await net.HealthAsync()) ? clock.Elapsed : null;
    }
}
