using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cairn.Node.Tests.TestSupport;

namespace Cairn.Node.Tests.Gateway;

/// <summary>The gateway holds a request's price limit before any work and refuses with 402 what the client cannot pay.</summary>
public sealed class LedgerGatewayTests
{
    [Fact]
    public async Task A_client_whose_balance_cannot_cover_the_price_limit_gets_402_and_nothing_is_served()
    {
        await using var net = await Devnet.StartWithGatewayArgsAsync(1, ["--initial-credit", "20"]);
        var http = net.Http;
        var body = new { model = "aidreams260K", prompt = "Once upon a time", max_tokens = 64 };
        using var refused = await http.PostAsJsonAsync("/v1/completions", body);
        Assert.Equal(HttpStatusCode.PaymentRequired, refused.StatusCode);
        var error = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("insufficient_quota", error.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("cannot cover", error.GetProperty("error").GetProperty("message").GetString());

        // A cheaper request fits the balance (13 prompt tokens + 4 at 1 micro-unit each) and is served.
        using var served = await http.PostAsJsonAsync("/v1/completions", new { model = "aidreams260K", prompt = "Once upon a time", max_tokens = 4 });
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        var health = await http.GetFromJsonAsync<JsonElement>("/healthz");
        Assert.Equal(1, health.GetProperty("receipts").GetInt32());
    }

    [Fact]
    public async Task Epochs_close_on_schedule_with_their_roots_and_the_ledger_verifies_while_serving()
    {
        await using var net = await Devnet.StartWithGatewayArgsAsync(1, ["--epoch-seconds", "1"]);
        using var served = await net.Http.PostAsJsonAsync("/v1/completions", new { model = "aidreams260K", prompt = "Once upon a time", max_tokens = 4 });
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        var health = await net.Http.GetFromJsonAsync<JsonElement>("/healthz");
        var provider = health.GetProperty("providers")[0];
        Assert.True(provider.GetProperty("reputation").GetDouble() > 0.5);
        Assert.Equal(1, provider.GetProperty("served").GetInt64());

        string db = Path.Combine(net.DataDirectory, "ledger.db");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        CairnCli.Result verify;
        do
        {
            verify = await CairnCli.RunAsync("ledger", "verify", "--sqlite", db);
            Assert.True(verify.ExitCode == 0, verify.StdOut + verify.StdErr);
        }
        while (!System.Text.RegularExpressions.Regex.IsMatch(verify.StdOut, @"[1-9]\d* closed epochs") && DateTime.UtcNow < deadline);
        Assert.Matches(@"[1-9]\d* closed epochs", verify.StdOut);
    }
}
