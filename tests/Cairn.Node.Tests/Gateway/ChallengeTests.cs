using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cairn.Node.Tests.TestSupport;

namespace Cairn.Node.Tests.Gateway;

/// <summary>
/// Proof of Sampling in a real network (docs/verification.md "In the network"): with <c>--challenge-rate 1</c> every
/// settled receipt is re-executed by another provider; honest providers always match, a cheater is slashed and loses its work.
/// </summary>
public sealed class ChallengeTests
{
    private const long Stake = 1_000_000; // the ledger's minimum stake = the genesis stake = the default slash

    [Fact]
    public async Task Honest_providers_are_never_slashed_when_every_receipt_is_challenged()
    {
        await using var net = await Devnet.StartWithGatewayArgsAsync(2, ["--challenge-rate", "1"]);
        const int requests = 8;
        for (int i = 0; i < requests; i++) await Complete(net, $"Story {i}: once upon a time", seed: 100 + i);

        var report = await WaitFor(net, r => r.Challenges.Count == requests && r.Pending == 0, "every request challenged and validated");
        Assert.All(report.Challenges, c =>
        {
            Assert.Equal("match", c.Verdict);
            Assert.NotNull(c.Validator);
            Assert.NotEqual(c.Asserter, c.Validator);
            Assert.Equal(0, c.Slashed);
        });
        Assert.All(report.Providers, p => Assert.Equal((Stake, true), (p.Stake, p.Eligible)));
        Assert.Single(report.Epochs);
        Assert.Matches("^[0-9a-f]{64}$", report.Epochs[0].Commitment);
        Assert.Contains(net.Gateway.Output.Split('\n'), l => l.Contains("secret committed", StringComparison.Ordinal));
        Assert.DoesNotContain(net.Gateway.Output.Split('\n'), l => l.Contains(": mismatch", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("wrong-seed")]
    [InlineData("forge-commitment")]
    [InlineData("substitute-model:SMALLER")]
    [InlineData("cheaper-type:Q4_0")]
    [InlineData("skip-layers:2")]
    [InlineData("random-tokens")]
    [InlineData("truncate:3")]
    [InlineData("forge-layer-hashes")]
    public async Task A_cheater_is_caught_slashed_below_the_minimum_stake_and_gets_no_more_work(string strategy)
    {
        if (strategy.EndsWith("SMALLER", StringComparison.Ordinal)) strategy = strategy.Replace("SMALLER", ModelCopies.SmallerModel(), StringComparison.Ordinal);
        // The cheater claims to be very fast, so routing prefers it while it is eligible.
        // Two honest providers: a disagreement is settled by a third re-execution (the tie-breaker).
        await using var net = await Devnet.StartWithGatewayArgsAsync(3, ["--challenge-rate", "1", "--slash", Stake.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            $"{strategy},claim-speed:1e9", null, null);
        string cheater = net.Providers[0].Id;
        var honestOnes = new[] { net.Providers[1].Id, net.Providers[2].Id };

        string first = await Complete(net, "Once upon a time", seed: 7);
        Assert.Equal(cheater, await ProviderOf(net, first));
        var caught = await WaitFor(net, r => r.Challenges.Any(c => c.Verdict.StartsWith("mismatch", StringComparison.Ordinal)), "the cheater's first challenge decided");
        var verdict = caught.Challenges.First(c => c.Verdict.StartsWith("mismatch", StringComparison.Ordinal));
        Assert.Equal((cheater, "mismatch: asserter wrong", false, Stake), (verdict.Asserter, verdict.Verdict, verdict.Matched, verdict.Slashed));
        Assert.Contains(verdict.Validator, honestOnes);
        string honest = verdict.Validator!;
        Assert.NotEqual(verdict.AsserterCommitment, verdict.ValidatorCommitment);
        // The log line is written by the console logger's own thread: wait for it rather than race it.
        var logDeadline = DateTime.UtcNow.AddSeconds(30);
        while (!net.Gateway.Output.Contains(": mismatch: asserter wrong; slashed 1000000", StringComparison.Ordinal) && DateTime.UtcNow < logDeadline) await Task.Delay(50);
        Assert.Contains(net.Gateway.Output.Split('\n'), l => l.Contains(": mismatch: asserter wrong; slashed 1000000", StringComparison.Ordinal));

        // Below the minimum stake it is no longer routed to; the honest provider serves, and nobody is left to validate it.
        var served = new List<string>();
        for (int i = 0; i < 3; i++) served.Add(await Complete(net, $"Story {i}", seed: 20 + i));
        var report = await WaitFor(net, r => r.Pending == 0 && r.Challenges.Count >= 4, "all challenges decided");
        foreach (string id in served) Assert.Contains(await ProviderOf(net, id), honestOnes);
        var accounts = report.Providers.ToDictionary(p => p.Id);
        Assert.Equal((0L, false), (accounts[cheater].Stake, accounts[cheater].Eligible));
        foreach (string h in honestOnes) Assert.Equal((Stake, true), (accounts[h].Stake, accounts[h].Eligible)); // never slashed
        Assert.True(accounts[honest].Earnings >= Stake / 2, $"the honest validator earned {accounts[honest].Earnings}");  // half the slash, plus fees
        Assert.All(report.Challenges.Where(c => honestOnes.Contains(c.Asserter)), c => Assert.Equal("match", c.Verdict));
        Assert.Equal(report.Challenges.Count(c => c.Asserter == cheater), report.Challenges.Count(c => c.Asserter == cheater && c.Verdict == "mismatch: asserter wrong"));
    }

    [Fact]
    public async Task The_gateway_refuses_unsafe_parameters_and_prints_the_smallest_safe_rate()
    {
        var r = await CairnCli.RunAsync("gateway", "--port", "0", "--api-key", Devnet.ApiKey, "--data", Path.Combine(Path.GetTempPath(), "cairn-unsafe-" + Guid.NewGuid().ToString("N")[..8]),
            "--challenge-rate", "0.001", "--work-cost", "10000");
        Assert.True(r.ExitCode == 2, $"exit {r.ExitCode}\n{r.StdOut}\n{r.StdErr}");
        Assert.Contains("cheating pays", r.StdErr);
        Assert.Contains("smallest safe --challenge-rate with these values: 0.010001", r.StdErr);
    }


    private static async Task<string> Complete(Devnet net, string prompt, int seed)
    {
        using var response = await net.Http.PostAsJsonAsync("/v1/completions", new { model = Devnet.ModelName, prompt, max_tokens = 16, temperature = 1.0, seed });
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body + "\n" + net.Logs());
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("id").GetString()!;
    }

    private static async Task<string> ProviderOf(Devnet net, string id)
    {
        using var doc = JsonDocument.Parse(await net.Http.GetStringAsync($"/v1/receipts/{id}"));
        return doc.RootElement.GetProperty("provider").GetString()!;
    }

    private static async Task<Report> WaitFor(Devnet net, Func<Report, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        Report report;
        while (!condition(report = await Read(net)))
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting for {what}: {JsonSerializer.Serialize(report)}\n{net.Logs()}");
            await Task.Delay(50);
        }
        return report;
    }

    private static async Task<Report> Read(Devnet net)
    {
        using var doc = JsonDocument.Parse(await net.Http.GetStringAsync("/v1/challenges"));
        var r = doc.RootElement;
        return new Report(
            r.GetProperty("pending").GetInt32(),
            r.GetProperty("epochs").EnumerateArray().Select(e => new Epoch(e.GetProperty("epoch").GetInt64(), e.GetProperty("commitment").GetString()!)).ToList(),
            r.GetProperty("challenges").EnumerateArray().Select(c => new Challenge(
                c.GetProperty("asserter").GetString()!, c.GetProperty("validator").GetString(), c.GetProperty("verdict").GetString()!,
                c.GetProperty("matched").ValueKind == JsonValueKind.Null ? null : c.GetProperty("matched").GetBoolean(),
                c.GetProperty("asserter_commitment").GetString()!, c.GetProperty("validator_commitment").GetString(), c.GetProperty("slashed").GetInt64())).ToList(),
            r.GetProperty("providers").EnumerateArray().Select(p => new Account(
                p.GetProperty("id").GetString()!, p.GetProperty("stake").GetInt64(), p.GetProperty("earnings").GetInt64(), p.GetProperty("eligible").GetBoolean())).ToList());
    }

    private sealed record Report(int Pending, List<Epoch> Epochs, List<Challenge> Challenges, List<Account> Providers);
    private sealed record Epoch(long Number, string Commitment);
    private sealed record Challenge(string Asserter, string? Validator, string Verdict, bool? Matched, string AsserterCommitment, string? ValidatorCommitment, long Slashed);
    private sealed record Account(string Id, long Stake, long Earnings, bool Eligible);
}
