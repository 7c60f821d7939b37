using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cairn.Node.Gateway;
using Cairn.Node.Gateway.Dashboard;
using Cairn.Node.Tests.TestSupport;

namespace Cairn.Node.Tests.Gateway.Dashboard;

/// <summary><c>GET /metrics</c> (docs/dashboard.md): Prometheus text format 0.0.4, checked with a strict parser.</summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task Metrics_parse_as_Prometheus_text_and_move_after_a_request()
    {
        await using var net = await Devnet.StartAsync(1);
        using var anonymous = new HttpClient { BaseAddress = new Uri(net.Api) };
        using var first = await anonymous.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("text/plain", first.Content.Headers.ContentType!.MediaType);
        Assert.Contains(first.Content.Headers.ContentType.Parameters, p => p.Name == "version" && p.Value == "0.0.4");
        var before = PrometheusText.Parse(await first.Content.ReadAsStringAsync());
        Assert.Equal("counter", before["cairn_requests_total"].Type);
        Assert.Equal("histogram", before["cairn_request_duration_seconds"].Type);
        Assert.Equal((1.0, 1.0), (Value(before, "cairn_providers_healthy"), Value(before, "cairn_providers_known")));
        Assert.Equal(0, Value(before, "cairn_tokens_total", "kind", "completion"));
        Assert.False(before.ContainsKey("cairn_stage_step_seconds")); // no pipeline stage has reported a step
        double entries = Value(before, "cairn_ledger_entries_total");
        Assert.True(entries > 0, "the genesis credit and stake are ledger entries");

        using var response = await net.Http.PostAsJsonAsync("/v1/completions", new { model = Devnet.ModelName, prompt = "Once upon a time", max_tokens = 8, temperature = 0 });
        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        int prompt = answer.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32();
        int completion = answer.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
        using var missing = await net.Http.PostAsJsonAsync("/v1/completions", new { model = "no-such-model", prompt = "x" });
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        var after = PrometheusText.Parse(await anonymous.GetStringAsync("/metrics"));
        Assert.Equal(1, Value(after, "cairn_requests_total", "status", "200"));
        Assert.Equal(1, Value(after, "cairn_requests_total", "status", "404"));
        Assert.Equal(prompt, Value(after, "cairn_tokens_total", "kind", "prompt"));
        Assert.Equal(completion, Value(after, "cairn_tokens_total", "kind", "completion"));
        Assert.Equal(2, Value(after, "cairn_request_duration_seconds_count"));
        Assert.True(Value(after, "cairn_request_duration_seconds_sum") > 0);
        Assert.True(Value(after, "cairn_ledger_entries_total") >= entries + 2, "a hold and a settlement (and a release for the 404: none, it fails before the hold)");
    }

    [Fact]
    public void Label_values_are_escaped_and_stage_step_histograms_appear_only_with_data()
    {
        var metrics = new GatewayMetrics();
        Assert.DoesNotContain("cairn_stage_step_seconds", metrics.Write(0, 0, 0));

        string odd = "mismatch: \"quoted\" back\\slash\nnew line";
        metrics.ChallengeDecided(new ChallengeView("c", "r", 0, "a", "v", odd, false, "x", "y", 7, 0, DateTimeOffset.UnixEpoch,
            new DisputeView("c-0", "token", 1, null, 0, odd, "a", 7, null, "")));
        metrics.ChallengeDecided(new ChallengeView("c", "r", 0, "a", "w", "match", true, "x", "x", 0, 1, DateTimeOffset.UnixEpoch, null));
        metrics.StageStep("0xabc/0-3", 0.002);
        metrics.StageStep("0xabc/0-3", 0.2);
        metrics.StageStep("0xdef/4-7", 5);
        var parsed = PrometheusText.Parse(metrics.Write(2, 3, 41));

        Assert.Equal(1, Value(parsed, "cairn_challenges_total", "verdict", odd));
        Assert.Equal(1, Value(parsed, "cairn_challenges_total", "verdict", "match"));
        Assert.Equal(1, Value(parsed, "cairn_disputes_total", "kind", "token"));
        Assert.Equal(7, Value(parsed, "cairn_slashed_micro_total"));
        Assert.Equal((2.0, 3.0, 41.0), (Value(parsed, "cairn_providers_healthy"), Value(parsed, "cairn_providers_known"), Value(parsed, "cairn_ledger_entries_total")));
        var stage = parsed["cairn_stage_step_seconds"];
        Assert.Equal("histogram", stage.Type);
        Assert.Equal(2, Value(parsed, "cairn_stage_step_seconds_count", "stage", "0xabc/0-3"));
        Assert.Equal(1, Value(parsed, "cairn_stage_step_seconds_count", "stage", "0xdef/4-7"));
        Assert.Equal(1, stage.Samples.Single(s => s.Name.EndsWith("_bucket", StringComparison.Ordinal) && s.Label("stage") == "0xabc/0-3" && s.Label("le") == "0.0025").Value);
        Assert.Equal(0, stage.Samples.Single(s => s.Name.EndsWith("_bucket", StringComparison.Ordinal) && s.Label("stage") == "0xdef/4-7" && s.Label("le") == "1").Value);
    }

    [Theory]
    [InlineData("cairn_x 1\n")] // no TYPE
    [InlineData("# TYPE cairn_x counter\ncairn_x{a=\"1\",a=\"2\"} 1\n")]
    [InlineData("# TYPE cairn_x counter\ncairn_x{a=\"\\t\"} 1\n")]
    [InlineData("# TYPE cairn_x counter\ncairn_x one\n")]
    [InlineData("# TYPE cairn_x counter\ncairn_x 1\ncairn_x 2\n")]
    [InlineData("# TYPE cairn_x counter\ncairn_x 1")] // no final line feed
    [InlineData("# TYPE 1cairn counter\n")]
    [InlineData("# TYPE cairn_h histogram\ncairn_h_bucket{le=\"1\"} 2\ncairn_h_bucket{le=\"+Inf\"} 1\ncairn_h_sum 1\ncairn_h_count 1\n")]
    [InlineData("# TYPE cairn_h histogram\ncairn_h_bucket{le=\"1\"} 1\ncairn_h_sum 1\ncairn_h_count 1\n")]
    [InlineData("# TYPE cairn_h histogram\ncairn_h_bucket{le=\"+Inf\"} 2\ncairn_h_sum 1\ncairn_h_count 1\n")]
    public void The_parser_refuses_malformed_exposition(string text) => Assert.Throws<FormatException>(() => PrometheusText.Parse(text));

    private static double Value(Dictionary<string, PrometheusText.Family> families, string name, string? label = null, string? value = null)
    {
        var samples = families.Values.SelectMany(f => f.Samples).Where(s => s.Name == name && (label is null || s.Label(label) == value)).ToList();
        Assert.True(samples.Count == 1, $"expected one sample {name}{(label is null ? "" : $"{{{label}=\"{value}\"}}")}, found {samples.Count}");
        return samples[0].Value;
    }
}
