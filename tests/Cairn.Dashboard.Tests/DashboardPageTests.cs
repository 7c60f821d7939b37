using Cairn.Dashboard.Tests.TestSupport;
using Microsoft.Playwright;

namespace Cairn.Dashboard.Tests;

/// <summary>
/// The dashboard in a real headless Chromium against a running network (docs/dashboard.md): every assertion waits for
/// what a person would see appear on the page, with no reload — the page updates itself from the gateway's JSON.
/// </summary>
public sealed class DashboardPageTests(DashboardNetwork network) : IClassFixture<DashboardNetwork>
{
    /// <summary>How long a page may take to show something the network already did.</summary>
    private static readonly float Patience = 90_000;

    [SkippableFact]
    public async Task The_overview_lists_every_provider_with_its_stake_and_the_whole_model()
    {
        Browser.RequireChromium();
        var page = await network.Browser.NewPageAsync();
        await page.GotoAsync(network.Net.Api + "/");
        foreach (var p in network.Net.Providers)
        {
            var row = page.Locator($"#providers tr[data-provider-id=\"{p.Id}\"]");
            await row.WaitForAsync(new() { Timeout = Patience });
            Assert.Contains("layers: whole model", await row.InnerTextAsync());
            Assert.Contains(Devnet.ModelName, await row.InnerTextAsync());
        }
        Assert.Equal(network.Net.Providers.Count, await page.Locator("#providers tbody tr").CountAsync());
    }

    [SkippableFact]
    public async Task A_request_made_through_the_API_appears_in_the_live_feed_without_a_reload()
    {
        Browser.RequireChromium();
        var page = await network.Browser.NewPageAsync();
        await page.GotoAsync(network.Net.Api + "/dashboard/overview");
        await page.ClickAsync("nav a[data-page=requests]");
        await page.Locator("#feed, #feed-empty").First.WaitForAsync(new() { Timeout = Patience });
        string before = page.Url;

        string id = await network.CompleteAsync("A request for the feed", seed: 11);
        var row = page.Locator($"#feed tr[data-request-id=\"{id}\"]");
        await row.WaitForAsync(new() { Timeout = Patience });
        Assert.Equal(before, page.Url);
        Assert.Contains(Devnet.ModelName, await row.InnerTextAsync());
        await row.Locator("summary").ClickAsync();
        Assert.Equal($"/v1/receipts/{id}", await row.Locator("a").GetAttributeAsync("href"));
    }

    [SkippableFact]
    public async Task A_cheating_providers_slash_appears_on_the_challenge_timeline()
    {
        Browser.RequireChromium();
        var page = await network.Browser.NewPageAsync();
        await page.GotoAsync(network.Net.Api + "/dashboard/challenges");
        await network.CompleteAsync("Once upon a time", seed: 7); // the cheater claims the best speed: it answers first, and is challenged

        var slash = page.Locator("#challenges tr.slash");
        await slash.First.WaitForAsync(new() { Timeout = Patience });
        string text = await slash.First.InnerTextAsync();
        Assert.Contains("mismatch: asserter wrong", text);
        Assert.Contains("1,000,000", text); // the whole minimum stake
        Assert.Equal(network.Cheater, await slash.First.Locator("td:nth-child(3) code").GetAttributeAsync("title"));
        Assert.True(await page.Locator("#timeline .slash-marker").CountAsync() >= 1);
    }

    [SkippableFact]
    public async Task Every_page_renders_and_is_captured()
    {
        Browser.RequireChromium();
        await network.CompleteAsync("Once upon a time", seed: 7);
        await network.CompleteAsync("The little dog", seed: 3);
        var page = await network.Browser.NewPageAsync();
        string folder = ScreenshotFolder();
        var pages = new (string Name, string Ready)[]
        {
            ("overview", "#providers tbody tr"),
            ("requests", "#feed tbody tr"),
            ("challenges", "#challenges tr.slash"),
            ("earnings", "#chart-earnings"), // a flat line has no height, and Playwright calls it hidden: the chart is the signal
            ("pipeline", "#pipeline rect"),
        };
        foreach (var (name, ready) in pages)
        {
            await page.GotoAsync($"{network.Net.Api}/dashboard/{name}");
            await page.Locator(ready).First.WaitForAsync(new() { Timeout = Patience });
            Assert.Equal(name, await page.Locator("body").GetAttributeAsync("data-page"));
            if (name == "earnings") Assert.Equal(network.Net.Providers.Count, await page.Locator("#chart-earnings polyline").CountAsync());
            string file = Path.Combine(folder, $"dashboard-{name}.png");
            await page.ScreenshotAsync(new() { Path = file, FullPage = false });
            Assert.True(new FileInfo(file).Length > 1000, $"{file} is empty");
        }
        Assert.Contains("whole model", await page.Locator("#no-plan").InnerTextAsync());
    }

    /// <summary>docs/images/ with CAIRN_UPDATE_SCREENSHOTS=1 (the committed pictures), else a temporary folder.</summary>
    private static string ScreenshotFolder()
    {
        if (Environment.GetEnvironmentVariable("CAIRN_UPDATE_SCREENSHOTS") == "1") return Path.Combine(ReferenceData.RepositoryRoot, "docs", "images");
        return Directory.CreateTempSubdirectory("cairn-dashboard-").FullName;
    }
}
