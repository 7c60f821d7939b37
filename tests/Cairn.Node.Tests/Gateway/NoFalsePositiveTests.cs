using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cairn.Node.Tests.TestSupport;

namespace Cairn.Node.Tests.Gateway;

/// <summary>
/// Issue 6, "Show" 1: honest providers on different thread counts and with hardware paths switched off are never slashed
/// over thousands of challenged requests. Every receipt is challenged (p = 1), so every request is re-executed by a
/// provider running other kernels (AVX-512 / AVX2 / scalar) on another number of threads, and must match bit for bit.
/// </summary>
public sealed class NoFalsePositiveTests
{
    private const int Requests = 2000;

    [Fact]
    public async Task Honest_providers_on_every_instruction_set_and_thread_count_are_never_slashed_over_thousands_of_challenges()
    {
        await using var net = await Devnet.StartWithGatewayArgsAsync(0, ["--challenge-rate", "1"]);
        var configurations = new (int Threads, Dictionary<string, string> Environment)[]
        {
            (1, new Dictionary<string, string>()),                                                                      // native (AVX-512 where present)
            (2, new Dictionary<string, string> { ["DOTNET_EnableAVX512F"] = "0", ["DOTNET_EnableAVX512"] = "0" }),    // AVX2
            (3, new Dictionary<string, string> { ["DOTNET_EnableAVX512F"] = "0", ["DOTNET_EnableAVX512"] = "0", ["DOTNET_EnableAVX2"] = "0" }), // 128-bit
            (2, new Dictionary<string, string> { ["DOTNET_EnableHWIntrinsic"] = "0" }),                               // scalar
        };
        // One standing provider per configuration, announcing a low speed (a test hook that changes no computation), so
        // that they validate but are not routed to; then, per configuration, an asserter announcing a high speed serves a
        // quarter of the requests and leaves. Every configuration is thus checked by every configuration.
        foreach (var (threads, environment) in configurations) await net.AddProviderAsync("claim-speed:1", threads, environment);
        var validators = net.Providers.Select(p => p.Id).ToList();

        string[] prompts = ["Once upon a time", "The little dog", "Lily wanted to", "One day, a bird", "Tom and Sue went to the park"];
        var asserters = new List<string>();
        for (int phase = 0; phase < configurations.Length; phase++)
        {
            var (threads, environment) = configurations[phase];
            var asserter = await net.AddProviderAsync("claim-speed:1e9", threads, environment);
            asserters.Add(asserter.Id);
            int next = phase * Requests / configurations.Length - 1, end = (phase + 1) * Requests / configurations.Length;
            async Task Worker()
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < end)
                {
                    using var response = await net.Http.PostAsJsonAsync("/v1/completions", new
                    {
                        model = Devnet.ModelName,
                        prompt = prompts[i % prompts.Length] + (i % 7 == 0 ? $" {i}" : ""),
                        max_tokens = 4 + i % 21,
                        temperature = (i % 4) switch { 0 => 0.0, 1 => 0.7, 2 => 1.0, _ => 1.3 },
                        top_p = i % 3 == 0 ? 0.9 : 1.0,
                        seed = 10_000 + i,
                    });
                    Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
                }
            }
            await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(Worker)));
            await net.ChallengesDecidedAsync(end, TimeSpan.FromMinutes(5));
            asserter.Process.Kill();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while ((await net.HealthAsync()).HealthyProviders != validators.Count)
            {
                Assert.True(DateTime.UtcNow < deadline, "the gateway never noticed the departed asserter\n" + net.Logs());
                await Task.Delay(100);
            }
        }

        var report = await net.ChallengesDecidedAsync(Requests, TimeSpan.FromMinutes(5));

        var challenges = report.GetProperty("challenges").EnumerateArray().ToList();
        var notMatched = challenges.Where(c => c.GetProperty("verdict").GetString() != "match").Select(c => c.ToString()).ToList();
        Assert.True(notMatched.Count == 0, $"{notMatched.Count} of {Requests} challenges did not match:\n{string.Join('\n', notMatched.Take(5))}");
        Assert.All(challenges, c => Assert.Equal(0, c.GetProperty("slashed").GetInt64()));
        Assert.All(report.GetProperty("providers").EnumerateArray(), p => Assert.True(p.GetProperty("eligible").GetBoolean()));

        // Every asserter configuration was checked by every validator configuration, many times.
        var byPair = challenges.GroupBy(c => (Asserter: asserters.IndexOf(c.GetProperty("asserter").GetString()!), Validator: validators.IndexOf(c.GetProperty("validator").GetString()!)))
            .ToDictionary(g => g.Key, g => g.Count());
        string table = string.Join('\n', byPair.Select(kv => $"asserter config {kv.Key.Asserter} checked by config {kv.Key.Validator}: {kv.Value}"));
        for (int a = 0; a < configurations.Length; a++)
        {
            for (int v = 0; v < configurations.Length; v++) Assert.True(byPair.GetValueOrDefault((a, v)) >= 50, $"pair ({a}, {v}) was checked too rarely:\n" + table);
        }
    }
}
