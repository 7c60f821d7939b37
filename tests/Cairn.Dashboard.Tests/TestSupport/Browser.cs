using Microsoft.Playwright;

namespace Cairn.Dashboard.Tests.TestSupport;

/// <summary>
/// Debian's headless Chromium driven by Playwright: <c>ExecutablePath</c> points at the system browser (CAIRN_CHROMIUM,
/// default /usr/bin/chromium), so Playwright never downloads one (the machine is offline; .ci/run installs the Debian
/// package). Without the browser the tests are skipped with the reason, except under CI=true, where they fail: CI must
/// never pass by skipping them.
/// </summary>
public sealed class Browser : IAsyncDisposable
{
    public const string ExecutableVariable = "CAIRN_CHROMIUM";

    private readonly IPlaywright _playwright;

    private Browser(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Chromium = browser;
    }

    public IBrowser Chromium { get; }

    public static string ExecutablePath => Environment.GetEnvironmentVariable(ExecutableVariable) is { Length: > 0 } p ? p : "/usr/bin/chromium";

    /// <summary>Skips (or, under CI=true, fails) the calling test when there is no Chromium to drive.</summary>
    public static void RequireChromium()
    {
        if (File.Exists(ExecutablePath)) return;
        string why = $"the dashboard's browser tests need Chromium at {ExecutablePath} (Debian: apt-get install chromium; .ci/run installs it, or set {ExecutableVariable})";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException(why + ", but CI=true");
        Skip.If(true, why);
    }

    public static async Task<Browser> LaunchAsync()
    {
        RequireChromium();
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ExecutablePath,
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            });
            return new Browser(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>A fresh page of 1280×900 CSS pixels.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Chromium.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        return await context.NewPageAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Chromium.DisposeAsync();
        _playwright.Dispose();
    }
}
