using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Cairn.Node.Gateway.Dashboard;

/// <summary>
/// The gateway's counters for <c>GET /metrics</c>, written in the Prometheus text exposition format 0.0.4
/// (docs/dashboard.md lists every series). Plain <see cref="Interlocked"/> counters and a hand-written writer:
/// prometheus-net 8.2.1 restores here only with NU1603 warnings (it depends on Microsoft.Extensions.* 3.1/7.0
/// versions the package mirror lacks, and warnings are errors) and would pull those old packages into a project
/// on the ASP.NET Core 10 shared framework; OpenTelemetry's Prometheus exporter is still a prerelease. The format is
/// small: <c># HELP</c>, <c># TYPE</c>, then one <c>name{labels} value</c> line per series.
/// </summary>
public sealed class GatewayMetrics
{
    /// <summary>Upper bounds (seconds) of the request-duration histogram's buckets; +Inf is implied.</summary>
    public static readonly double[] DurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
    /// <summary>Upper bounds (seconds) of the stage step-time histogram's buckets.</summary>
    public static readonly double[] StepBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

    private readonly ConcurrentDictionary<int, long[]> _requests = new(); // status → [count]
    private readonly ConcurrentDictionary<string, long[]> _challenges = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long[]> _disputes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Histogram> _stageSteps = new(StringComparer.Ordinal);
    private readonly Histogram _duration = new(DurationBuckets);
    private long _promptTokens, _completionTokens, _slashed;

    /// <summary>One completion request ended with HTTP <paramref name="status"/> after <paramref name="seconds"/>.</summary>
    public void RequestEnded(int status, double seconds)
    {
        Interlocked.Increment(ref _requests.GetOrAdd(status, _ => new long[1])[0]);
        _duration.Observe(seconds);
    }

    /// <summary>A receipt was verified and settled for <paramref name="prompt"/> + <paramref name="completion"/> tokens.</summary>
    public void Served(int prompt, int completion)
    {
        Interlocked.Add(ref _promptTokens, prompt);
        Interlocked.Add(ref _completionTokens, completion);
    }

    /// <summary>One validator's part of a challenge was decided (and, for a mismatch, its dispute settled).</summary>
    public void ChallengeDecided(ChallengeView c)
    {
        Interlocked.Increment(ref _challenges.GetOrAdd(c.Verdict, _ => new long[1])[0]);
        if (c.Dispute is { } d) Interlocked.Increment(ref _disputes.GetOrAdd(d.Kind, _ => new long[1])[0]);
        if (c.Slashed > 0) Interlocked.Add(ref _slashed, c.Slashed);
    }

    /// <summary>A pipeline stage took <paramref name="seconds"/> for one step; the histogram appears once it has data.</summary>
    public void StageStep(string stage, double seconds) => _stageSteps.GetOrAdd(stage, _ => new Histogram(StepBuckets)).Observe(seconds);

    public long Requests => _requests.Values.Sum(v => Interlocked.Read(ref v[0]));
    public long PromptTokens => Interlocked.Read(ref _promptTokens);
    public long CompletionTokens => Interlocked.Read(ref _completionTokens);

    /// <summary>The exposition, gauges read at the time of the scrape.</summary>
    public string Write(int healthyProviders, int knownProviders, long ledgerEntries)
    {
        var w = new StringBuilder(4096);
        Header(w, "cairn_requests_total", "counter", "Completion requests answered by the gateway, by HTTP status.");
        foreach (var (status, v) in _requests.OrderBy(p => p.Key)) Sample(w, "cairn_requests_total", Label("status", status.ToString(CultureInfo.InvariantCulture)), Interlocked.Read(ref v[0]));
        Header(w, "cairn_tokens_total", "counter", "Tokens in verified receipts.");
        Sample(w, "cairn_tokens_total", Label("kind", "prompt"), PromptTokens);
        Sample(w, "cairn_tokens_total", Label("kind", "completion"), CompletionTokens);
        _duration.Write(w, "cairn_request_duration_seconds", "Time from a completion request's arrival to the end of its response.", "");
        Header(w, "cairn_challenges_total", "counter", "Challenge verdicts, one per validator (match, mismatch: …, no-validator, validator-failed).");
        foreach (var (verdict, v) in _challenges.OrderBy(p => p.Key, StringComparer.Ordinal)) Sample(w, "cairn_challenges_total", Label("verdict", verdict), Interlocked.Read(ref v[0]));
        Header(w, "cairn_disputes_total", "counter", "Disputes settled, by kind (layer, token, forfeit, tie-breaker, unresolved).");
        foreach (var (kind, v) in _disputes.OrderBy(p => p.Key, StringComparer.Ordinal)) Sample(w, "cairn_disputes_total", Label("kind", kind), Interlocked.Read(ref v[0]));
        Header(w, "cairn_slashed_micro_total", "counter", "Stake slashed by disputes, in micro-units.");
        Sample(w, "cairn_slashed_micro_total", "", Interlocked.Read(ref _slashed));
        Header(w, "cairn_ledger_entries_total", "counter", "Entries in the ledger's journal.");
        Sample(w, "cairn_ledger_entries_total", "", ledgerEntries);
        Header(w, "cairn_providers_healthy", "gauge", "Providers whose heartbeats arrive and whose last call did not fail.");
        Sample(w, "cairn_providers_healthy", "", healthyProviders);
        Header(w, "cairn_providers_known", "gauge", "Providers that registered with this gateway.");
        Sample(w, "cairn_providers_known", "", knownProviders);
        bool first = true;
        foreach (var (stage, h) in _stageSteps.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            h.Write(w, "cairn_stage_step_seconds", first ? "Time one pipeline stage took for one step." : null, Label("stage", stage));
            first = false;
        }
        return w.ToString();
    }

    private static void Header(StringBuilder w, string name, string type, string? help)
    {
        if (help is null) return;
        w.Append("# HELP ").Append(name).Append(' ').Append(help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)).Append('\n');
        w.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
    }

    /// <summary><c>name="value"</c> with the value escaped as the format requires (backslash, double quote, line feed).</summary>
    private static string Label(string name, string value) =>
        name + "=\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) + "\"";

    private static void Sample(StringBuilder w, string name, string labels, double value)
    {
        w.Append(name);
        if (labels.Length > 0) w.Append('{').Append(labels).Append('}');
        w.Append(' ').Append(Format(value)).Append('\n');
    }

    private static string Format(double v) =>
        double.IsPositiveInfinity(v) ? "+Inf" : double.IsNegativeInfinity(v) ? "-Inf" : double.IsNaN(v) ? "NaN" : v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A cumulative histogram: per-bucket counts, a count and a sum, updated under a small lock.</summary>
    private sealed class Histogram(double[] bounds)
    {
        private readonly long[] _counts = new long[bounds.Length + 1];
        private readonly Lock _gate = new();
        private double _sum;

        public void Observe(double value)
        {
            int i = 0;
            while (i < bounds.Length && value > bounds[i]) i++;
            lock (_gate)
            {
                _counts[i]++;
                _sum += value;
            }
        }

        /// <param name="help">null when the HELP/TYPE lines were already written for another label set.</param>
        public void Write(StringBuilder w, string name, string? help, string labels)
        {
            long[] counts;
            double sum;
            lock (_gate)
            {
                counts = (long[])_counts.Clone();
                sum = _sum;
            }
            Header(w, name, "histogram", help);
            string prefix = labels.Length > 0 ? labels + "," : "";
            long cumulative = 0;
            for (int i = 0; i <= bounds.Length; i++)
            {
                cumulative += counts[i];
                string le = i < bounds.Length ? Format(bounds[i]) : "+Inf";
                Sample(w, name + "_bucket", prefix + "le=\"" + le + "\"", cumulative);
            }
            Sample(w, name + "_sum", labels, sum);
            Sample(w, name + "_count", labels, cumulative);
        }
    }
}
