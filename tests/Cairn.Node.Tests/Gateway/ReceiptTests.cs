using System.Net;
using System.Text.Json;
using Cairn.Node.Tests.TestSupport;
using Cairn.Protocol.Messages;
using OpenAI.Chat;

namespace Cairn.Node.Tests.Gateway;

/// <summary><c>GET /v1/receipts/{id}</c>: the provider's signed receipt of an answer, checkable by anyone with Cairn.Protocol alone.</summary>
[Collection(DevnetCollection.Name)]
public sealed class ReceiptTests(DevnetFixture fixture)
{
    private Devnet Net => fixture.Net;

    [Fact]
    public async Task The_receipt_of_an_answer_verifies_against_its_request_and_names_the_provider_that_served_it()
    {
        var chat = Net.OpenAi().GetChatClient(Devnet.ModelName);
        ChatCompletion answer = (await chat.CompleteChatAsync([new UserChatMessage("Tell me a story")], new ChatCompletionOptions { MaxOutputTokenCount = 10 })).Value;

        var (view, request, receipt) = await FetchReceipt(answer.Id);

        Assert.True(request.Verify().IsValid, request.Verify().ToString());
        Assert.Equal(Net.GatewayId, request.Client.ToString());
        var check = receipt.Verify(request);
        Assert.True(check.IsValid, check.ToString());
        Assert.Equal(view.GetProperty("provider").GetString(), receipt.Provider.ToString());
        Assert.Contains(receipt.Provider.ToString(), Net.Providers.Select(p => p.Id));
        Assert.Equal(answer.Usage.InputTokenCount, receipt.PromptTokens);
        Assert.Equal(answer.Usage.OutputTokenCount, receipt.CompletionTokens);
        Assert.Equal(receipt.RequestHash, request.Hash());
        Assert.Equal(answer.Id, view.GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_tampered_receipt_fails_verification()
    {
        var chat = Net.OpenAi().GetChatClient(Devnet.ModelName);
        ChatCompletion answer = (await chat.CompleteChatAsync([new UserChatMessage("Hi")], new ChatCompletionOptions { MaxOutputTokenCount = 5 })).Value;
        var (view, request, receipt) = await FetchReceipt(answer.Id);
        byte[] bytes = Convert.FromHexString(view.GetProperty("receipt_hex").GetString()!);

        // A changed signature byte, and a changed output commitment under the original signature.
        foreach (int at in new[] { bytes.Length - 10, bytes.Length / 3 })
        {
            byte[] tampered = (byte[])bytes.Clone();
            tampered[at] ^= 0x01;
            bool decoded = Receipt.TryDecode(tampered, out var bad, out var malformed);
            Assert.True(!decoded || !bad!.Verify(request).IsValid, $"a receipt with byte {at} flipped still verifies ({malformed})");
        }
        Assert.True(receipt.Verify(request).IsValid);
    }

    [Fact]
    public async Task An_unknown_receipt_id_is_a_404_error_object()
    {
        using var response = await Net.Http.GetAsync("/v1/receipts/chatcmpl-doesnotexist");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("receipt_not_found", doc.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    private async Task<(JsonElement View, InferenceRequest Request, Receipt Receipt)> FetchReceipt(string id)
    {
        using var response = await Net.Http.GetAsync($"/v1/receipts/{id}");
        string json = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, json);
        var view = JsonDocument.Parse(json).RootElement.Clone();
        var request = InferenceRequest.Decode(Convert.FromHexString(view.GetProperty("request_hex").GetString()!));
        var receipt = Receipt.Decode(Convert.FromHexString(view.GetProperty("receipt_hex").GetString()!));
        return (view, request, receipt);
    }
}
