using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cairn.Node.Tests.TestSupport;
using Xunit.Abstractions;

namespace Cairn.Node.Tests.Gateway;

/// <summary>
/// Issue 6, "Show" 2: for each cheating strategy, in a real network with the referee on, the share of the cheater's
/// requests on which it is caught matches q = p(1 − r) (DESIGN.md §4.5) within statistical bounds, and so does the chance
/// of being caught at least once within k requests, 1 − (1 − q)^k; the cheater's stake falls, the honest providers'
/// earnings rise, and every stored verdict re-checks with <c>cairn verify</c>. The slash is small against the stake
/// (S = 0.1% of it) so that a cheater stays eligible and keeps cheating long enough to be measured.
/// </summary>
public sealed class DetectionRateTests(ITestOutputHelper output)
{
    private const int Requests = 120;
    private const double P = 0.25;
    private const long GenesisStake = 100_000_000, Slash = 100_000;
    private const int Window = 4;

    public static TheoryData<string> Strategies => new()
    {
        "wrong-seed", "forge-commitment", "smaller-model", "cheaper-type:Q4_0", "skip-layers:2", "random-tokens", "truncate:3",
        "forge-layer-hashes", "lazy-validator", "colluding-pair",
    };

    [Theory]
    [MemberData(nameof(Strategies))]
    public async Task A_cheater_is_caught_at_the_rate_p_times_1_minus_r_loses_stake_and_every_verdict_rechecks(string strategy)
    {
        string? smaller = strategy == "smaller-model" ? ModelCopies.SmallerModel() : null;
        string cartel = Directory.CreateTempSubdirectory("cairn-cartel-").FullName;
        try
        {
            await using var net = await Devnet.StartWithGatewayArgsAsync(0,
            [
                "--challenge-rate", P.ToString(CultureInfo.InvariantCulture), "--genesis-stake", GenesisStake.ToString(CultureInfo.InvariantCulture),
                "--slash", Slash.ToString(CultureInfo.InvariantCulture), "--work-cost", "1000", "--model", Devnet.ModelPath,
            ]);
            // Cheaters announce a huge speed so that routing sends them every request it can; the lazy validator is honest
            // as an asserter and cheats only when drawn to validate the honest providers' answers.
            string fault = strategy switch
            {
                "smaller-model" => $"substitute-model:{smaller}",
                "colluding-pair" => $"wrong-seed,collude:{cartel}",
                _ => strategy,
            };
            int cheaters = strategy == "colluding-pair" ? 2 : 1, honest = strategy == "colluding-pair" ? 2 : 3;
            var cheaterIds = new List<string>();
            for (int i = 0; i < cheaters; i++) cheaterIds.Add((await net.AddProviderAsync(fault + (strategy == "lazy-validator" ? ",claim-speed:1" : ",claim-speed:1e9"))).Id);
            for (int i = 0; i < honest; i++) await net.AddProviderAsync();
            var honestIds = net.Providers.Select(p => p.Id).Except(cheaterIds).ToList();

            // The detection probability per request: the draw (p) times the chance that the validator is not a partner.
            // Colluders: the asserter's validators are its partner and two honest providers of equal stake, r = 1/3.
            // Lazy validator: it cheats only when drawn, which for an honest asserter is 1 in 3 (two other honest ones).
            double q = strategy switch
            {
                "colluding-pair" => P * (1 - 1.0 / 3),
                "lazy-validator" => P / 3,
                _ => P,
            };

            var served = new List<(string Id, string Provider)>();
            for (int i = 0; i < Requests; i++)
            {
                using var response = await net.Http.PostAsJsonAsync("/v1/completions",
                    new { model = Devnet.ModelName, prompt = $"Story number {i}: once upon a time", max_tokens = 12, temperature = 0.9, seed = 5_000 + i });
                string body = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.OK, body + "\n" + net.Logs());
                string id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
                using var receipt = JsonDocument.Parse(await net.Http.GetStringAsync($"/v1/receipts/{id}"));
                served.Add((id, receipt.RootElement.GetProperty("provider").GetString()!));
            }
            var report = await net.ChallengesDecidedAsync(0, TimeSpan.FromMinutes(3));
            var challenges = report.GetProperty("challenges").EnumerateArray().ToList();

            // Which requests count, and on which the cheat was caught (a dispute the cheater lost).
            bool LostBy(JsonElement c, string who) => c.GetProperty("dispute").ValueKind == JsonValueKind.Object
                && c.GetProperty("dispute").GetProperty("loser").GetString() is { } loser && (loser == who || loser.Contains(who, StringComparison.Ordinal));
            var byRequest = challenges.GroupBy(c => c.GetProperty("request_id").GetString()!).ToDictionary(g => g.Key, g => g.ToList());
            var counted = strategy == "lazy-validator" ? served.Where(s => honestIds.Contains(s.Provider)).ToList() : served.Where(s => cheaterIds.Contains(s.Provider)).ToList();
            var caught = counted.Select(s => byRequest.TryGetValue(s.Id, out var cs) && cs.Any(c => cheaterIds.Any(x => LostBy(c, x)))).ToList();
            int k = counted.Count, detected = caught.Count(x => x);
            Assert.True(k >= Requests * 3 / 4, $"only {k} of {Requests} requests were served where the cheat could act\n{net.Logs()}");

            // Binomial bounds, 4.5 standard deviations (a false failure about once in 150 000 runs).
            double mean = k * q, sd = Math.Sqrt(k * q * (1 - q));
            string summary = $"{strategy}: caught on {detected} of {k} requests; expected {mean:F1} ± {sd:F1} (q = {q:F4})";
            output.WriteLine(summary);
            Assert.True(Math.Abs(detected - mean) <= 4.5 * sd, summary);
            int windows = k / Window, windowsCaught = Enumerable.Range(0, windows).Count(w => caught.Skip(w * Window).Take(Window).Any(x => x));
            double pk = 1 - Math.Pow(1 - q, Window), wsd = Math.Sqrt(windows * pk * (1 - pk));
            output.WriteLine($"caught within {Window} requests in {windowsCaught} of {windows} windows; 1 - (1 - q)^{Window} = {pk:F3}");
            Assert.True(Math.Abs(windowsCaught - windows * pk) <= 4.5 * wsd,
                $"{summary}; caught within {Window} requests in {windowsCaught} of {windows} windows, expected {windows * pk:F1} ± {wsd:F1}");

            // Every dispute went against a cheater, never an honest provider; the cheaters' stake fell by S per loss.
            var disputes = challenges.Where(c => c.GetProperty("dispute").ValueKind == JsonValueKind.Object).ToList();
            Assert.All(disputes, c => Assert.True(cheaterIds.Any(x => LostBy(c, x)), $"a dispute went against an honest provider: {c}"));
            var accounts = report.GetProperty("providers").EnumerateArray().ToDictionary(p => p.GetProperty("id").GetString()!);
            long lost = cheaterIds.Sum(x => GenesisStake - accounts[x].GetProperty("stake").GetInt64());
            Assert.True(disputes.Count * Slash == lost, $"{summary}; {disputes.Count} disputes but {lost} lost\n" +
                string.Join('\n', net.Logs().Split('\n').Where(l => l.Contains("fail", StringComparison.OrdinalIgnoreCase) || l.Contains("slash", StringComparison.OrdinalIgnoreCase) || l.Contains("exception", StringComparison.OrdinalIgnoreCase)).Take(80)));
            Assert.True(lost > 0, summary);
            foreach (string h in honestIds) Assert.Equal(GenesisStake, accounts[h].GetProperty("stake").GetInt64());
            Assert.True(honestIds.Sum(h => accounts[h].GetProperty("earnings").GetInt64()) >= disputes.Count * Slash / 2, "the honest winners earn half of every slash");

            // Every stored verdict re-checks independently.
            string folder = Path.Combine(net.DataDirectory, "disputes");
            var files = Directory.Exists(folder) ? Directory.GetFiles(folder, "*.evidence") : [];
            Assert.True(disputes.Count > 0, summary);
            string kinds = string.Join(", ", disputes.Select(c => c.GetProperty("dispute")).GroupBy(d => d.GetProperty("kind").GetString() + ": " + d.GetProperty("detail").GetString()).Select(g => $"{g.Count()} × {g.Key}"));
            // Three strategies cannot even reveal a trace that fits their receipt and the model, so they forfeit (no evidence
            // file; the slash references both receipts): a forged commitment, a guessed one, and a trace with too few layers.
            if (strategy is "forge-commitment" or "lazy-validator" or "smaller-model")
                Assert.All(disputes, c => Assert.Equal("forfeit", c.GetProperty("dispute").GetProperty("kind").GetString()));
            else Assert.True(files.Length > 0, $"{summary}; no evidence stored; disputes: {kinds}");
            foreach (string file in files.Take(3))
            {
                var verify = await CairnCli.RunAsync("verify", file, "--model", Devnet.ModelPath);
                Assert.True(verify.ExitCode == 0, $"{file}: {verify.StdOut}{verify.StdErr}");
            }
        }
        finally
        {
            Directory.Delete(cartel, recursive: true);
            if (smaller != null) File.Delete(smaller);
        }
    }
}
