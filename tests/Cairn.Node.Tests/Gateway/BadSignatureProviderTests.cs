using System.Text.Json;
using Cairn.Node.Tests.TestSupport;
using Cairn.Protocol.Messages;
using OpenAI.Chat;

namespace Cairn.Node.Tests.Gateway;

/// <summary>A provider that signs its receipts with the wrong key is refused, and the honest provider answers instead.</summary>
public sealed class BadSignatureProviderTests
{
    [Fact]
    public async Task An_answer_with_a_wrong_receipt_signature_is_refused_and_retried_on_an_honest_provider()
    {
        // The faulty provider claims to be very fast, so routing tries it first.
        await using var net = await Devnet.StartAsync(providers: 2, "bad-signature,claim-speed:1e9", null);
        var liar = net.Providers[0];
        var honest = net.Providers[1];
        var chat = net.OpenAi().GetChatClient(Devnet.ModelName);
        ChatMessage[] messages = [new UserChatMessage("Tell me about the moon.")];
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 16, Temperature = 0.8f, Seed = 11 };

        ChatCompletion answer = (await chat.CompleteChatAsync(messages, options)).Value;

        string refusal = await net.Gateway.WaitForLine(l => l.Contains($"provider {liar.Id} failed", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        Assert.Contains("receipt refused", refusal);
        using var view = JsonDocument.Parse(await net.Http.GetStringAsync($"/v1/receipts/{answer.Id}"));
        var receipt = Receipt.Decode(Convert.FromHexString(view.RootElement.GetProperty("receipt_hex").GetString()!));
        var request = InferenceRequest.Decode(Convert.FromHexString(view.RootElement.GetProperty("request_hex").GetString()!));
        Assert.Equal(honest.Id, receipt.Provider.ToString());
        Assert.True(receipt.Verify(request).IsValid);

        // The liar is out of the routing for good (a heartbeat does not bring it back); a streamed answer to the same seeded
        // request comes from the honest provider and equals the first answer.
        var health = await net.HealthAsync();
        Assert.Equal((1, 2), (health.HealthyProviders, health.KnownProviders));
        var streamed = new System.Text.StringBuilder();
        await foreach (var u in chat.CompleteChatStreamingAsync(messages, options))
            foreach (var part in u.ContentUpdate) streamed.Append(part.Text);
        Assert.Equal(answer.Content[0].Text, streamed.ToString());
        Assert.Equal(2, (await net.HealthAsync()).Receipts);
        Assert.DoesNotContain(net.Gateway.Output.Split('\n'), l => l.Contains($"via {liar.Id}", StringComparison.Ordinal));
    }
}
