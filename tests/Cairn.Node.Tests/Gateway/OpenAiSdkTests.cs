using System.Text.Json;
using Cairn.Node.Tests.TestSupport;
using OpenAI.Chat;

namespace Cairn.Node.Tests.Gateway;

/// <summary>The official OpenAI .NET SDK, unchanged, against a real gateway and two real providers.</summary>
[Collection(DevnetCollection.Name)]
public sealed class OpenAiSdkTests(DevnetFixture fixture)
{
    private const string Prompt = "Once upon a time";
    private Devnet Net => fixture.Net;

    [Fact]
    public async Task The_SDK_lists_the_served_model()
    {
        var models = await Net.OpenAi().GetOpenAIModelClient().GetModelsAsync();
        Assert.Contains(models.Value, m => m.Id == Devnet.ModelName && m.OwnedBy == "cairn");
    }

    [Fact]
    public async Task The_SDK_gets_a_chat_completion_with_usage()
    {
        var chat = Net.OpenAi().GetChatClient(Devnet.ModelName);
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 12, Temperature = 0 };
        ChatCompletion answer = (await chat.CompleteChatAsync([new SystemChatMessage("You tell stories."), new UserChatMessage("Tell me about the sea.")], options)).Value;

        Assert.StartsWith("chatcmpl-", answer.Id);
        Assert.Equal(ChatMessageRole.Assistant, answer.Role);
        Assert.NotEmpty(answer.Content[0].Text);
        Assert.Contains(answer.FinishReason, new[] { ChatFinishReason.Stop, ChatFinishReason.Length });
        Assert.True(answer.Usage.InputTokenCount > 0);
        Assert.InRange(answer.Usage.OutputTokenCount, 1, 12);
        Assert.Equal(answer.Usage.InputTokenCount + answer.Usage.OutputTokenCount, answer.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task A_streamed_chat_completion_carries_usage_and_equals_the_unstreamed_answer()
    {
        var chat = Net.OpenAi().GetChatClient(Devnet.ModelName);
        ChatMessage[] messages = [new UserChatMessage("Hello there")];
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 24, Temperature = 0.8f, Seed = 42 };
        var whole = (await chat.CompleteChatAsync(messages, options)).Value;

        var text = new System.Text.StringBuilder();
        var updates = new List<StreamingChatCompletionUpdate>();
        await foreach (var update in chat.CompleteChatStreamingAsync(messages, options))
        {
            updates.Add(update);
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
        }

        Assert.True(updates.Count > 2, $"{updates.Count} updates");
        Assert.All(updates, u => Assert.StartsWith("chatcmpl-", u.CompletionId));
        Assert.Single(updates, u => u.FinishReason != null);
        // The SDK asks for stream_options.include_usage itself; the last update carries the usage.
        var usage = updates[^1].Usage;
        Assert.NotNull(usage);
        Assert.Equal(whole.Usage.InputTokenCount, usage.InputTokenCount);
        Assert.Equal(whole.Usage.OutputTokenCount, usage.OutputTokenCount);
        Assert.Equal(whole.Content[0].Text, text.ToString());
    }

    [Fact]
    public async Task A_greedy_completion_equals_cairn_run()
    {
        var expected = await CairnCli.RunAsync("run", "--model", Devnet.ModelPath, "--prompt", Prompt, "--temperature", "0", "-n", "20");
        Assert.True(expected.ExitCode == 0, expected.StdErr);

        var answer = await Complete(new { model = Devnet.ModelName, prompt = Prompt, temperature = 0, max_tokens = 20 });

        Assert.Equal(expected.StdOut[..^1], answer.Text);
        Assert.Equal("length", answer.FinishReason);
        Assert.Equal(20, answer.CompletionTokens);
    }

    [Fact]
    public async Task A_sampled_completion_with_a_seed_equals_cairn_run_with_the_same_seed()
    {
        // The API's defaults are OpenAI's (no top-k, no min-p, top-p 1); cairn run's are llama.cpp's, so name them.
        var expected = await CairnCli.RunAsync("run", "--model", Devnet.ModelPath, "--prompt", Prompt, "--temperature", "0.8", "--seed", "7",
            "--top-k", "0", "--min-p", "0", "--top-p", "1", "-n", "20");
        Assert.True(expected.ExitCode == 0, expected.StdErr);

        var answer = await Complete(new { model = Devnet.ModelName, prompt = Prompt, temperature = 0.8, seed = 7, max_tokens = 20 });

        Assert.Equal(expected.StdOut[..^1], answer.Text);
    }

    /// <summary><c>/v1/completions</c> over plain HTTP: the SDK's legacy completion client is internal in OpenAI 2.x.</summary>
    private async Task<(string Text, string FinishReason, int CompletionTokens)> Complete(object body)
    {
        using var response = await Net.Http.PostAsync("/v1/completions", new StringContent(JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json"));
        string json = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, json);
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal("text_completion", root.GetProperty("object").GetString());
        Assert.StartsWith("cmpl-", root.GetProperty("id").GetString());
        var choice = root.GetProperty("choices")[0];
        return (choice.GetProperty("text").GetString()!, choice.GetProperty("finish_reason").GetString()!,
            root.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }
}
