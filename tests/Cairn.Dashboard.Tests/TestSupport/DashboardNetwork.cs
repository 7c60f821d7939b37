using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Cairn.Dashboard.Tests.TestSupport;

/// <summary>
/// One network for the dashboard's browser tests: a gateway that challenges every receipt (<c>--challenge-rate 1</c>)
/// and referees on its own copy of the model (<c>--model</c>), a cheater that samples with the wrong seed and claims to
/// be fast (so requests go to it first), and two honest providers; plus a headless Chromium. Started once per test class.
/// </summary>
public sealed class DashboardNetwork : IAsyncLifetime
{
    public const string Cheat = "wrong-seed,claim-speed:1e9";

    private Devnet? _net;
    private Browser? _browser;

    public Devnet Net => _net ?? throw new InvalidOperationException("the network did not start");
    public Browser Browser => _browser ?? throw new InvalidOperationException("the browser did not start");
    public string Cheater => Net.Providers[0].Id;

    public async Task InitializeAsync()
    {
        if (!File.Exists(Browser.ExecutablePath)) return; // each test skips (or fails under CI) with the reason
        _browser = await Browser.LaunchAsync();
        _net = await Devnet.StartWithGatewayArgsAsync(3, ["--challenge-rate", "1", "--model", Devnet.ModelPath], Cheat, null, null);
    }

    /// <summary>Sends one completion through the API; its response id.</summary>
    public async Task<string> CompleteAsync(string prompt, int seed)
    {
        using var response = await Net.Http.PostAsJsonAsync("/v1/completions", new { model = Devnet.ModelName, prompt, max_tokens = 12, temperature = 1.0, seed });
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body + "\n" + Net.Logs());
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("id").GetString()!;
    }

    public async Task DisposeAsync()
    {
        if (_net != null) await _net.DisposeAsync();
        if (_browser != null) await _browser.DisposeAsync();
    }
}
