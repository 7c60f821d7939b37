using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cairn.Node.Tests.TestSupport;

namespace Cairn.Node.Tests.Gateway;

/// <summary>
/// The draws are auditable (DESIGN.md §4.1): the gateway commits each epoch's secret in the ledger before the epoch's
/// draws, reveals it in the ledger after the epoch closes and records every challenge it drew, so
/// <c>cairn ledger audit</c> re-runs every draw from the journal alone.
/// </summary>
public sealed class DrawAuditTests
{
    [Fact]
    public async Task Every_draw_of_a_revealed_epoch_re_runs_from_the_ledger_to_the_same_challenges()
    {
        await using var net = await Devnet.StartWithGatewayArgsAsync(2, ["--challenge-rate", "0.5", "--epoch-seconds", "3"]);
        const int requests = 16;
        for (int i = 0; i < requests; i++)
        {
            using var response = await net.Http.PostAsJsonAsync("/v1/completions",
                new { model = Devnet.ModelName, prompt = $"Tale {i}", max_tokens = 8, temperature = 1.0, seed = 300 + i });
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        }

        // Wait until the epoch of the last request has closed and its secret is revealed, and every challenge is decided.
        long lastEpoch = -1;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var doc = JsonDocument.Parse(await net.Http.GetStringAsync("/v1/challenges"));
            var epochs = doc.RootElement.GetProperty("epochs").EnumerateArray().ToList();
            if (lastEpoch < 0) lastEpoch = epochs.Max(e => e.GetProperty("epoch").GetInt64());
            bool revealed = epochs.Any(e => e.GetProperty("epoch").GetInt64() == lastEpoch && e.GetProperty("secret").ValueKind == JsonValueKind.String);
            if (revealed && doc.RootElement.GetProperty("pending").GetInt32() == 0) break;
            Assert.True(DateTime.UtcNow < deadline, "the last epoch was never revealed: " + doc.RootElement + "\n" + net.Logs());
            await Task.Delay(100);
        }

        string ledger = Path.Combine(net.DataDirectory, "ledger.db");
        var audit = await CairnCli.RunAsync("ledger", "audit", "--sqlite", ledger);
        Assert.True(audit.ExitCode == 0, audit.StdOut + audit.StdErr);
        Assert.Contains("the draws were fair", audit.StdOut);
        Assert.Contains("challenge rate 50%", audit.StdOut);
        var summary = audit.StdOut.Split('\n').Single(l => l.Contains("settled receipts", StringComparison.Ordinal));
        long settled = long.Parse(summary.Split(' ')[0], CultureInfo.InvariantCulture);
        long drawn = long.Parse(summary.Split(", ")[1].Split(' ')[0], CultureInfo.InvariantCulture);
        Assert.Equal(requests, settled);                 // every request settled in a revealed epoch was checked
        Assert.InRange(drawn, 1, requests - 1);          // at p = 0.5 over 16 receipts, both outcomes occur (P(fail) ≈ 3e-5)

        var verify = await CairnCli.RunAsync("ledger", "verify", "--sqlite", ledger);
        Assert.True(verify.ExitCode == 0, verify.StdOut + verify.StdErr);
    }
}
