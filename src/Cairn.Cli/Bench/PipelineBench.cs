using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Cairn.Cli.Devnet;
using Cairn.Node.Rpc;
using Grpc.Net.Client;

namespace Cairn.Cli.Bench;

/// <summary>
/// <c>cairn pipeline bench</c>: for each split (even, the planner's, exo's memory-proportional) a fresh gateway on
/// 127.0.0.1 with <c>--pipeline-split</c> and one flexible stage process per emulated device. Per-token latency is the
/// wall-time difference between a greedy request of 8 tokens and one of 8 + <c>--tokens</c>, over the tokens between
/// (prefill and HTTP cancel), the median of <c>--repeats</c>; throughput is <c>--concurrent</c> requests at once. The
/// even split runs first and also measures the link latency per hop, which the later gateways are given
/// (<c>--link-latency-ms</c>) so that their predictions are made before they run. The planner's run ends with the
/// rebalancing check: the device holding the most layers is slowed at run time, throughput measured on the old plan,
/// then the gateway re-plans from the measured step times and throughput is measured again. A last run plans for
/// throughput (<c>--pipeline-objective throughput</c>).
/// </summary>
internal sealed class PipelineBench(PipelineBenchOptions options, TextWriter output)
{
    private const int Short = 8;
    private readonly string _apiKey = "sk-bench-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
    private readonly string _modelName = Path.GetFileNameWithoutExtension(options.Model);

    private sealed record SplitResult(string Split, string Plan, double Predicted, double Measured, double? Median, double PredictedThroughput, double Throughput, double? Link);

    public async Task<int> Run(CancellationToken cancel)
    {
        Directory.CreateDirectory(options.DataDirectory);
        output.WriteLine($"pipeline bench: {Path.GetFileName(options.Model)}, devices {string.Join(", ", options.Devices.Select(d => $"{d.Id} {d.Memory} x{d.Slowdown.ToString(CultureInfo.InvariantCulture)}"))}; logs in {options.DataDirectory}");
        var even = await RunSplit("even", 1, rebalance: false, cancel);
        double link = (even.Link ?? 0.001) * 1e3;
        output.WriteLine(F($"measured link latency per hop: {link:F2} ms (given to the next gateways)"));
        var planner = await RunSplit("planner", link, rebalance: true, cancel);
        var exo = await RunSplit("exo", link, rebalance: false, cancel);
        var throughput = await RunSplit("planner", link, rebalance: false, cancel, objective: "throughput");

        output.WriteLine();
        output.WriteLine($"| split | stages | per-token latency: predicted | measured (mean over the tokens, median of {options.Repeats} runs) | measured − predicted | median step at the gateway | throughput: predicted (1 / slowest stage) | measured, {options.Concurrent} concurrent |");
        output.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var r in new[] { planner, throughput, even, exo })
            output.WriteLine(F($"| {r.Split} | {r.Plan} | {r.Predicted * 1e3:F1} ms | {r.Measured * 1e3:F1} ms | {(r.Measured - r.Predicted) / r.Predicted:+0.0%;-0.0%} | {(r.Median is { } m ? (m * 1e3).ToString("F1", CultureInfo.InvariantCulture) + " ms" : "-")} | {r.PredictedThroughput:F1} tok/s | {r.Throughput:F1} tok/s |"));
        output.WriteLine(F($"planner (latency) vs even: {even.Measured / planner.Measured:F2}x faster per token, vs exo: {exo.Measured / planner.Measured:F2}x; planner (throughput) vs even: {throughput.Throughput / even.Throughput:F2}x the throughput, vs exo: {throughput.Throughput / exo.Throughput:F2}x"));
        return 0;
    }

    private async Task<SplitResult> RunSplit(string split, double linkMs, bool rebalance, CancellationToken cancel, string objective = "latency")
    {
        string label = objective == "latency" ? split : $"{split} ({objective})";
        string dir = Path.Combine(options.DataDirectory, objective == "latency" ? split : split + "-" + objective);
        Directory.CreateDirectory(dir);
        string pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var children = new List<ChildProcess>();
        try
        {
            var gateway = ChildProcess.Start($"gateway ({split})", ["gateway", "--port", "0", "--grpc-port", "0", "--api-key", _apiKey, "--data", dir, "--parent-pid", pid,
                "--pipeline-split", split, "--pipeline-objective", objective, "--link-latency-ms", linkMs.ToString("R", CultureInfo.InvariantCulture)], Path.Combine(dir, "gateway.log"), new Dictionary<string, string>());
            children.Add(gateway);
            string line = await gateway.WaitForLine("gateway: ", TimeSpan.FromSeconds(60), cancel);
            string api = Field(line, "api"), grpc = Field(line, "grpc");
            // One at a time: each node calibrates this machine at start, best while the others are idle.
            var names = new Dictionary<string, (string Name, string Endpoint)>(StringComparer.Ordinal);
            foreach (var d in options.Devices)
            {
                var node = ChildProcess.Start(d.Id, ["node", "--gateway", grpc, "--model", options.Model, "--layers", "auto", "--memory", d.Memory,
                    "--slowdown", d.Slowdown.ToString("R", CultureInfo.InvariantCulture), "--threads", "1", "--parent-pid", pid], Path.Combine(dir, d.Id + ".log"), new Dictionary<string, string>());
                children.Add(node);
                string id = await node.WaitForLine("provider: id=", TimeSpan.FromSeconds(120), cancel);
                names[Field(id, "id")] = (node.Name, Field(id, "grpc"));
                await node.WaitForLine("ready:", TimeSpan.FromSeconds(120), cancel);
            }
            using var http = new HttpClient { BaseAddress = new Uri(api), Timeout = TimeSpan.FromMinutes(10) };
            http.DefaultRequestHeaders.Authorization = new("Bearer", _apiKey);

            await Complete(http, 4, cancel); // the first plan, loads, JIT, connections
            double measured = await Latency(http, cancel);
            var view = await View(http, cancel);
            double throughput = await Throughput(http, cancel);
            string plan = Plan(view, names);
            output.WriteLine("  " + string.Join(", ", view.GetProperty("devices").EnumerateArray().Select(d => F(
                $"{names[d.GetProperty("device").GetString()!].Name} planned at {d.GetProperty("decode_bytes_per_second").GetDouble() / 1e9:F2} GB/s, measured {(d.TryGetProperty("measured_decode_bytes_per_second", out var m) && m.ValueKind == JsonValueKind.Number ? (m.GetDouble() / 1e9).ToString("F2", CultureInfo.InvariantCulture) : "-")}"))));
            string hop = view.TryGetProperty("measured_link_seconds", out var h) && h.ValueKind == JsonValueKind.Number ? F($"{h.GetDouble() * 1e3:F2}") : "-";
            output.WriteLine(F($"{label}: {plan}; predicted {view.GetProperty("predicted_seconds_per_token").GetDouble() * 1e3:F1} ms/token (link {linkMs:F2} ms/hop), measured {measured * 1e3:F1} ms/token (median step at the gateway {(view.TryGetProperty("measured_seconds_per_token", out var ms) && ms.ValueKind == JsonValueKind.Number ? (ms.GetDouble() * 1e3).ToString("F1", CultureInfo.InvariantCulture) : "-")} ms, link {hop} ms/hop), {throughput:F1} tok/s with {options.Concurrent} concurrent"));
            double? median = view.TryGetProperty("measured_seconds_per_token", out var md) && md.ValueKind == JsonValueKind.Number ? md.GetDouble() : null;
            var result = new SplitResult(label, plan, view.GetProperty("predicted_seconds_per_token").GetDouble(), measured, median,
                view.GetProperty("predicted_tokens_per_second").GetDouble(), throughput,
                view.TryGetProperty("measured_link_seconds", out var l) && l.ValueKind == JsonValueKind.Number ? l.GetDouble() : null);
            if (rebalance) await Rebalance(http, view, names, gateway, throughput, cancel);
            return result;
        }
        finally
        {
            foreach (var c in Enumerable.Reverse(children)) c.Dispose();
        }
    }

    /// <summary>Slows the device with the most layers, measures on the old plan, lets the gateway re-plan, measures again.</summary>
    private async Task Rebalance(HttpClient http, JsonElement view, Dictionary<string, (string Name, string Endpoint)> names, ChildProcess gateway, double before, CancellationToken cancel)
    {
        var busiest = view.GetProperty("stages").EnumerateArray().OrderByDescending(s => s.GetProperty("last_layer").GetInt32() - s.GetProperty("first_layer").GetInt32()).First();
        var (name, endpoint) = names[busiest.GetProperty("device").GetString()!];
        using (var channel = GrpcChannel.ForAddress(endpoint))
            await new Stage.StageClient(channel).SetSlowdownAsync(new StageSlowdownRequest { Slowdown = options.SlowTo }, cancellationToken: cancel);
        double slowed = await Throughput(http, cancel); // every request of the batch starts on the old plan
        double latencySlowed = await Latency(http, cancel, repeats: 1); // the first of these starts on the new plan
        var after = await View(http, cancel);
        double recovered = await Throughput(http, cancel);
        double latency = await Latency(http, cancel);
        output.WriteLine(F($"rebalancing: {name} slowed to x{options.SlowTo}: throughput {before:F1} -> {slowed:F1} tok/s on the old plan; re-planned to {Plan(after, names)} (predicted {after.GetProperty("predicted_seconds_per_token").GetDouble() * 1e3:F1} ms/token, measured {latency * 1e3:F1}; {latencySlowed * 1e3:F1} in the request that re-planned): {recovered:F1} tok/s"));
        foreach (string l in gateway.Tail(400).Split('\n').Where(l => l.Contains("re-planned", StringComparison.Ordinal) && l.Contains("measured speeds", StringComparison.Ordinal)))
            output.WriteLine("  gateway: " + l.Trim());
    }

    private static string Plan(JsonElement view, Dictionary<string, (string Name, string Endpoint)> names) =>
        string.Join(", ", view.GetProperty("stages").EnumerateArray().Select(s =>
            $"{names[s.GetProperty("device").GetString()!].Name} {s.GetProperty("first_layer").GetInt32()}:{s.GetProperty("last_layer").GetInt32() + 1}"));

    /// <summary>Seconds per decode step: (long − short) / (their token difference), the median of the repeats.</summary>
    private async Task<double> Latency(HttpClient http, CancellationToken cancel, int? repeats = null)
    {
        var samples = new List<double>();
        for (int i = 0; i < (repeats ?? options.Repeats); i++)
        {
            var (s1, n1) = await Complete(http, Short, cancel);
            var (s2, n2) = await Complete(http, Short + options.Tokens, cancel);
            if (n2 <= n1) throw new InvalidOperationException($"the long request stopped after {n2} tokens");
            samples.Add((s2 - s1) / (n2 - n1));
        }
        samples.Sort();
        return samples[samples.Count / 2];
    }

    private async Task<double> Throughput(HttpClient http, CancellationToken cancel)
    {
        long start = Stopwatch.GetTimestamp();
        var done = await Task.WhenAll(Enumerable.Range(0, options.Concurrent).Select(_ => Complete(http, options.Tokens, cancel)));
        return done.Sum(d => d.Tokens) / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private async Task<(double Seconds, int Tokens)> Complete(HttpClient http, int maxTokens, CancellationToken cancel)
    {
        long start = Stopwatch.GetTimestamp();
        using var response = await http.PostAsJsonAsync("/v1/completions", new Dictionary<string, object>
        {
            ["model"] = _modelName,
            ["prompt"] = "Once upon a time",
            ["max_tokens"] = maxTokens,
            ["temperature"] = 0,
        }, cancel);
        string body = await response.Content.ReadAsStringAsync(cancel);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"completion failed ({(int)response.StatusCode}): {body}");
        using var doc = JsonDocument.Parse(body);
        return (seconds, doc.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    private static async Task<JsonElement> View(HttpClient http, CancellationToken cancel)
    {
        using var doc = JsonDocument.Parse(await http.GetStringAsync("/v1/pipeline", cancel));
        return doc.RootElement.Clone();
    }

    private static string Field(string line, string name) =>
        line.Split(' ').FirstOrDefault(p => p.StartsWith(name + "=", StringComparison.Ordinal))?[(name.Length + 1)..]
            ?? throw new InvalidOperationException($"no {name}= in '{line}'");

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
