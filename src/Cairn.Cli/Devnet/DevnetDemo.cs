using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Cairn.Cli.Devnet;

/// <summary><c>cairn devnet --demo</c>: a short workload of chat completions and a summary of what the network did.</summary>
internal static class DevnetDemo
{
    private static readonly string[] Prompts = ["Once upon a time", "I dreamed", "The machine", "In the quiet", "Tell me a story", "What is a cairn?"];

    /// <summary>Runs the workload; returns the summary and the token positions served (prompt + completion, over all answers).</summary>
    public static async Task<(string Summary, long Positions)> Run(HttpClient http, string model, CancellationToken cancel, int requests = 24, int concurrency = 4)
    {
        var latencies = new List<double>();
        var providers = new Dictionary<string, int>(StringComparer.Ordinal);
        int failed = 0, tokens = 0, next = 0;
        long positions = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (true)
            {
                int i = Interlocked.Increment(ref next) - 1;
                if (i >= requests) return;
                var body = new { model, messages = new[] { new { role = "user", content = Prompts[i % Prompts.Length] } }, max_tokens = 32, temperature = 0.7, seed = i };
                var sw = Stopwatch.StartNew();
                try
                {
                    using var response = await http.PostAsJsonAsync("/v1/chat/completions", body, cancel);
                    var json = await response.Content.ReadFromJsonAsync<JsonElement>(cancel);
                    if (!response.IsSuccessStatusCode) throw new HttpRequestException(json.ToString());
                    string id = json.GetProperty("id").GetString()!;
                    int n = json.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
                    int prompt = json.GetProperty("usage").GetProperty("prompt_tokens").GetInt32();
                    var receipt = await http.GetFromJsonAsync<JsonElement>($"/v1/receipts/{id}", cancel);
                    string provider = receipt.GetProperty("provider").GetString()!;
                    lock (latencies)
                    {
                        latencies.Add(sw.Elapsed.TotalSeconds);
                        tokens += n;
                        positions += prompt + n;
                        providers[provider] = providers.GetValueOrDefault(provider) + 1;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or JsonException or KeyNotFoundException)
                {
                    Interlocked.Increment(ref failed);
                }
            }
        }));
        double seconds = clock.Elapsed.TotalSeconds;
        latencies.Sort();
        double P(double q) => latencies.Count == 0 ? 0 : latencies[Math.Min(latencies.Count - 1, (int)(q * latencies.Count))];
        var s = new StringBuilder();
        s.AppendLine($"demo: {requests} chat completions, {concurrency} at a time, max_tokens 32");
        s.AppendLine($"  requests     {requests - failed} ok, {failed} failed");
        s.AppendLine($"  tokens       {tokens} generated, {tokens / seconds:F1} tok/s over {seconds:F1} s");
        s.AppendLine($"  latency      p50 {P(0.5):F2} s   p95 {P(0.95):F2} s");
        s.AppendLine("  per provider (from the signed receipts):");
        foreach (var (provider, count) in providers.OrderByDescending(p => p.Value))
            s.AppendLine($"    {provider}  {count,3} requests  {100.0 * count / Math.Max(1, requests - failed),5:F1} %");
        return (s.ToString(), positions);
    }

    /// <summary>Waits (up to a minute) for the challenges still being validated, then says who was challenged, who cheated, when they were caught and what they lost.</summary>
    public static async Task<string> Challenges(HttpClient http, IReadOnlyDictionary<string, string> names, DateTimeOffset started, long served, CancellationToken cancel)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        JsonElement report;
        while ((report = await http.GetFromJsonAsync<JsonElement>("/v1/challenges", cancel)).GetProperty("pending").GetInt32() > 0 && DateTime.UtcNow < deadline)
            await Task.Delay(100, cancel);
        string Name(string? id) => id is null ? "-" : names.TryGetValue(id, out string? n) ? $"{n} ({id[..10]}…)" : id;
        var challenges = report.GetProperty("challenges").EnumerateArray().ToList();
        int Count(string verdict) => challenges.Count(c => c.GetProperty("verdict").GetString()!.StartsWith(verdict, StringComparison.Ordinal));
        var s = new StringBuilder();
        s.AppendLine($"proof of sampling: challenge rate {report.GetProperty("challenge_rate").GetString()}, {challenges.Count} receipts challenged");
        s.AppendLine($"  verdicts     {Count("match")} matched, {Count("mismatch")} mismatched, {Count("no-validator")} without a validator, {Count("validator-failed")} validator failed");
        int k = 0;
        foreach (var c in challenges)
        {
            k++;
            string v = c.GetProperty("verdict").GetString()!;
            if (!v.StartsWith("mismatch", StringComparison.Ordinal)) continue;
            string asserterName = Name(c.GetProperty("asserter").GetString()), validatorName = Name(c.GetProperty("validator").GetString());
            var at = DateTimeOffset.Parse(c.GetProperty("at").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            string when = $"at +{Math.Max(0, (at - started).TotalSeconds):F1} s";
            var dispute = c.GetProperty("dispute");
            string how = dispute.ValueKind != JsonValueKind.Object ? "" : dispute.GetProperty("kind").GetString() switch
            {
                "layer" => $"; bisection to step {dispute.GetProperty("step")}, layer {dispute.GetProperty("layer")}, recomputed by the referee",
                "token" => $"; sampling dispute at generated token {dispute.GetProperty("index")}, replayed by the referee",
                "forfeit" => $"; forfeited: {dispute.GetProperty("detail").GetString()}",
                "tie-breaker" => "; settled by a tie-breaker re-execution (no referee model)",
                var other => $"; {other}",
            };
            if (dispute.ValueKind == JsonValueKind.Object && dispute.GetProperty("evidence").GetString() is { } evidence)
                how += $"; evidence {evidence[..Math.Min(18, evidence.Length)]}… (GET /v1/disputes/{dispute.GetProperty("id").GetString()}/evidence, re-check with cairn verify)";
            long slashed = c.GetProperty("slashed").GetInt64();
            string lost = slashed > 0 ? $"lost {slashed} of stake" : "nothing left to slash";
            string who = v switch
            {
                "mismatch: asserter wrong" => $"{asserterName} CHEATED and was caught {when} by validator {validatorName}{how}: {lost}",
                "mismatch: validator wrong" => $"validator {validatorName} lied about {asserterName}'s answer, caught {when}{how}: {lost}",
                "mismatch: both wrong" => $"{asserterName} and validator {validatorName} were both wrong, caught {when}{how}: {lost}",
                _ => $"{asserterName} and {validatorName} disagree, unresolved {when}{how}",
            };
            s.AppendLine($"  challenge {k,-3} {who}");
        }
        // The cost of verification: every validator that answered re-ran the whole request (prompt + completion positions).
        long rerun = 0;
        foreach (var c in challenges.Where(c => c.GetProperty("matched").ValueKind != JsonValueKind.Null))
        {
            var receipt = await http.GetFromJsonAsync<JsonElement>($"/v1/receipts/{c.GetProperty("request_id").GetString()}", cancel);
            rerun += receipt.GetProperty("prompt_tokens").GetInt32() + receipt.GetProperty("completion_tokens").GetInt32();
        }
        int disputes = challenges.Count(c => c.GetProperty("dispute").ValueKind == JsonValueKind.Object);
        s.AppendLine($"  verification validators re-ran {rerun} token positions for the {served} served: {100.0 * rerun / Math.Max(1, served):F1} % extra compute; " +
            $"{disputes} disputes, each two trace replays and one layer recomputed by the referee");
        s.AppendLine("  stake and earnings (micro-units, from the ledger):");
        foreach (var p in report.GetProperty("providers").EnumerateArray())
        {
            s.AppendLine($"    {Name(p.GetProperty("id").GetString()),-60} stake {p.GetProperty("stake").GetInt64(),9}  earnings {p.GetProperty("earnings").GetInt64(),9}" +
                (p.GetProperty("eligible").GetBoolean() ? "" : "  (below the minimum stake: no more work)"));
        }
        return s.ToString();
    }
}
