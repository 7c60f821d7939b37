using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Cairn.Cli.Load;

/// <summary>One provider's part of the looked-up sample.</summary>
public sealed record ProviderShare(string Provider, int Answers, double Share);

/// <summary>Receipts looked up after a run against Cairn, counted by the provider that signed them.</summary>
public sealed record ProviderShares(int Sampled, int LookupsFailed, IReadOnlyList<ProviderShare> Providers);

/// <summary>The summary of a load run. Throughput counts successful requests only, over the whole run's wall time.</summary>
public sealed record LoadReport
{
    public required LoadOptions Options { get; init; }

    /// <summary>Every finished request, in the order they were sent.</summary>
    public required IReadOnlyList<RequestRecord> Records { get; init; }

    /// <summary>Wall time from the first request sent to the last answer received.</summary>
    public required TimeSpan Elapsed { get; init; }

    /// <summary>The run was cancelled; requests in flight then are not in <see cref="Records"/>.</summary>
    public bool Interrupted { get; init; }

    public int Requests => Records.Count;
    public required int Failed { get; init; }
    public int Succeeded => Requests - Failed;

    /// <summary>Completion tokens of the successful requests.</summary>
    public required long Tokens { get; init; }

    public double TokensPerSecond => Tokens / Math.Max(Elapsed.TotalSeconds, 1e-9);
    public double RequestsPerSecond => Succeeded / Math.Max(Elapsed.TotalSeconds, 1e-9);

    /// <summary>Percentiles (nearest rank) over the successful requests; null when none succeeded.</summary>
    public TimeSpan? LatencyP50 { get; init; }
    public TimeSpan? LatencyP95 { get; init; }
    public TimeSpan? FirstTokenP50 { get; init; }
    public TimeSpan? FirstTokenP95 { get; init; }

    /// <summary>The most frequent failure reasons with their counts.</summary>
    public required IReadOnlyList<(string Error, int Count)> Errors { get; init; }

    /// <summary>Requests resent once because the server had closed the kept-alive connection before answering.</summary>
    public int Reconnects { get; init; }

    /// <summary>Per-provider share when the server is Cairn and receipts were looked up; else null.</summary>
    public ProviderShares? Providers { get; init; }

    public static LoadReport Create(LoadOptions options, IReadOnlyList<RequestRecord> records, TimeSpan elapsed, bool interrupted, ProviderShares? providers)
    {
        var ok = records.Where(r => r.Success).ToList();
        var latency = ok.Select(r => r.Latency).Order().ToList();
        var first = ok.Where(r => r.FirstToken.HasValue).Select(r => r.FirstToken!.Value).Order().ToList();
        return new LoadReport
        {
            Options = options,
            Records = records,
            Elapsed = elapsed,
            Interrupted = interrupted,
            Failed = records.Count - ok.Count,
            Tokens = ok.Sum(r => (long)r.Tokens),
            LatencyP50 = Percentile(latency, 0.50),
            LatencyP95 = Percentile(latency, 0.95),
            FirstTokenP50 = Percentile(first, 0.50),
            FirstTokenP95 = Percentile(first, 0.95),
            Errors = records.Where(r => !r.Success).GroupBy(r => r.Error ?? "unknown").Select(g => (g.Key, g.Count()))
                .OrderByDescending(e => e.Item2).ThenBy(e => e.Key, StringComparer.Ordinal).Take(5).ToList(),
            Providers = providers,
        };
    }

    /// <summary>Nearest-rank percentile of an ascending list; null when empty.</summary>
    public static TimeSpan? Percentile(IReadOnlyList<TimeSpan> sorted, double p)
    {
        if (sorted.Count == 0) return null;
        int rank = (int)Math.Ceiling(p * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }

    private static string S(TimeSpan? t) => t is { } v ? v.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture) : "-";
    private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>A human-readable summary: what ran, the figures table, failures and per-provider share.</summary>
    public string Format()
    {
        var o = Options;
        var sb = new StringBuilder();
        string bound = (o.Duration, o.Requests) switch
        {
            ({ } d, { } n) => $"{d.TotalSeconds:0.#} s or {n} requests",
            ({ } d, null) => $"{d.TotalSeconds:0.#} s",
            (null, { } n) => $"{n} requests",
            _ => "",
        };
        sb.Append(CultureInfo.InvariantCulture, $"load: {o.Clients} clients, streamed chat completions to {o.BaseUrl} (model {o.Model}), ")
          .Append(CultureInfo.InvariantCulture, $"max_tokens {o.MaxTokens}, temperature {F(o.Temperature, "0.###")}, {bound}; ran {Elapsed.TotalSeconds:0.0} s")
          .AppendLine(Interrupted ? " (interrupted)" : "");
        var rows = new (string, string)[]
        {
            ("requests", Requests.ToString(CultureInfo.InvariantCulture)),
            ("failed", Failed.ToString(CultureInfo.InvariantCulture)),
            ("tokens", Tokens.ToString(CultureInfo.InvariantCulture)),
            ("tokens/s (all clients)", F(TokensPerSecond, "0.0")),
            ("requests/s", F(RequestsPerSecond, "0.00")),
            ("latency p50 / p95", $"{S(LatencyP50)} / {S(LatencyP95)} s"),
            ("first token p50 / p95", $"{S(FirstTokenP50)} / {S(FirstTokenP95)} s"),
        };
        int width = rows.Max(r => r.Item1.Length);
        foreach (var (name, value) in rows) sb.Append("  ").Append(name.PadRight(width)).Append("  ").AppendLine(value);
        if (Reconnects > 0) sb.Append(CultureInfo.InvariantCulture, $"  ({Reconnects} requests were resent on a fresh connection: the server had closed the kept-alive one)").AppendLine();
        if (Errors.Count > 0)
        {
            sb.AppendLine("failures:");
            foreach (var (error, count) in Errors) sb.Append(CultureInfo.InvariantCulture, $"  {count,6} × {error}").AppendLine();
        }
        if (Providers is { } p)
        {
            sb.Append(CultureInfo.InvariantCulture, $"per-provider share ({p.Sampled} receipts looked up");
            sb.AppendLine(p.LookupsFailed > 0 ? $", {p.LookupsFailed} lookups failed):" : "):");
            foreach (var share in p.Providers)
                sb.Append(CultureInfo.InvariantCulture, $"  {share.Provider}  {share.Answers,6}  {F(share.Share * 100, "0.0"),5} %").AppendLine();
        }
        return sb.ToString();
    }

    /// <summary>The figures as one Markdown table row: requests, failed, tokens/s, requests/s, latency and first token p50 / p95.</summary>
    public string FormatMarkdownRow(string label) =>
        $"| {label} | {Requests} | {Failed} | {F(TokensPerSecond, "0")} | {F(RequestsPerSecond, "0.0")} | {S(LatencyP50)} / {S(LatencyP95)} s | {S(FirstTokenP50)} / {S(FirstTokenP95)} s |";

    /// <summary>The summary as a JSON object (seconds for times).</summary>
    public string ToJson()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("url", Options.BaseUrl.ToString());
            w.WriteString("model", Options.Model);
            w.WriteNumber("clients", Options.Clients);
            w.WriteNumber("max_tokens", Options.MaxTokens);
            w.WriteNumber("temperature", Options.Temperature);
            w.WriteNumber("elapsed_s", Elapsed.TotalSeconds);
            w.WriteBoolean("interrupted", Interrupted);
            w.WriteNumber("requests", Requests);
            w.WriteNumber("failed", Failed);
            w.WriteNumber("tokens", Tokens);
            w.WriteNumber("reconnects", Reconnects);
            w.WriteNumber("tokens_per_s", TokensPerSecond);
            w.WriteNumber("requests_per_s", RequestsPerSecond);
            Seconds(w, "latency_p50_s", LatencyP50);
            Seconds(w, "latency_p95_s", LatencyP95);
            Seconds(w, "first_token_p50_s", FirstTokenP50);
            Seconds(w, "first_token_p95_s", FirstTokenP95);
            w.WriteStartArray("errors");
            foreach (var (error, count) in Errors)
            {
                w.WriteStartObject();
                w.WriteString("error", error);
                w.WriteNumber("count", count);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (Providers is { } p)
            {
                w.WriteStartObject("providers");
                w.WriteNumber("sampled", p.Sampled);
                w.WriteNumber("lookups_failed", p.LookupsFailed);
                w.WriteStartArray("shares");
                foreach (var s in p.Providers)
                {
                    w.WriteStartObject();
                    w.WriteString("provider", s.Provider);
                    w.WriteNumber("answers", s.Answers);
                    w.WriteNumber("share", s.Share);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            else w.WriteNull("providers");
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void Seconds(Utf8JsonWriter w, string name, TimeSpan? t)
    {
        if (t is { } v) w.WriteNumber(name, v.TotalSeconds);
        else w.WriteNull(name);
    }
}
