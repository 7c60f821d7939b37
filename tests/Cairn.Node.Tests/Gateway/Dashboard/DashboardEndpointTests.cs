using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cairn.Node.Tests.TestSupport;

namespace Cairn.Node.Tests.Gateway.Dashboard;

/// <summary>The dashboard's page and read-only JSON (docs/dashboard.md), served without an API key and never showing one.</summary>
public sealed class DashboardEndpointTests
{
    [Fact]
    public async Task The_page_and_its_views_are_public_list_the_request_and_never_show_the_api_key()
    {
        await using var net = await Devnet.StartAsync(1);
        using var response = await net.Http.PostAsJsonAsync("/v1/completions", new { model = Devnet.ModelName, prompt = "Once upon a time", max_tokens = 8, temperature = 0 });
        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        string id = answer.RootElement.GetProperty("id").GetString()!;

        using var anonymous = new HttpClient { BaseAddress = new Uri(net.Api) };
        foreach (string page in new[] { "/", "/dashboard", "/dashboard/overview", "/dashboard/requests", "/dashboard/challenges", "/dashboard/earnings", "/dashboard/pipeline" })
        {
            using var r = await anonymous.GetAsync(page);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal("text/html", r.Content.Headers.ContentType!.MediaType);
            Assert.Contains("/dashboard/assets/app.js", await r.Content.ReadAsStringAsync());
        }
        Assert.Contains("function timeline", await anonymous.GetStringAsync("/dashboard/assets/app.js"));
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync("/dashboard/assets/nothing.js")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync("/dashboard/nothing")).StatusCode);

        using var network = JsonDocument.Parse(await anonymous.GetStringAsync("/v1/network"));
        var provider = Assert.Single(network.RootElement.GetProperty("providers").EnumerateArray());
        Assert.Equal(net.Providers[0].Id, provider.GetProperty("id").GetString());
        Assert.Equal("whole model", provider.GetProperty("models")[0].GetProperty("layers").GetString());
        Assert.True(provider.GetProperty("stake").GetInt64() > 0);
        Assert.Equal(1, network.RootElement.GetProperty("totals").GetProperty("receipts").GetInt32());

        using var feed = JsonDocument.Parse(await anonymous.GetStringAsync("/v1/network/requests?after=0"));
        var entry = Assert.Single(feed.RootElement.EnumerateArray());
        Assert.Equal((id, net.Providers[0].Id), (entry.GetProperty("id").GetString(), entry.GetProperty("provider").GetString()));
        long seq = entry.GetProperty("seq").GetInt64();
        Assert.Equal(0, JsonDocument.Parse(await anonymous.GetStringAsync($"/v1/network/requests?after={seq}")).RootElement.GetArrayLength());
        using var receipt = JsonDocument.Parse(await net.Http.GetStringAsync($"/v1/receipts/{id}"));
        Assert.Equal(receipt.RootElement.GetProperty("output_commitment").GetString(), entry.GetProperty("output_commitment").GetString());

        using var plan = JsonDocument.Parse(await anonymous.GetStringAsync("/v1/pipeline"));
        Assert.Equal(0, plan.RootElement.GetProperty("stages").GetArrayLength());

        foreach (string view in new[] { "/v1/network", "/v1/network/requests", "/v1/network/challenges", "/v1/network/balances", "/v1/pipeline", "/metrics" })
        {
            string body = await anonymous.GetStringAsync(view);
            Assert.DoesNotContain(Devnet.ApiKey, body);
            Assert.DoesNotContain("Once upon a time", body); // no prompt either
        }
        // The keyed API stays keyed.
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/v1/receipts/{id}")).StatusCode);
    }
}
