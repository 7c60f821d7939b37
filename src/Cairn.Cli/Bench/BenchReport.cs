using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Cairn.Cli.Bench;

/// <summary>The results of <c>cairn bench</c>: a llama-bench-like table, or one JSON object (<see cref="ToJson"/>).</summary>
internal sealed record BenchReport
{
    public required string Model { get; init; }
    public required string Path { get; init; }
    public required long FileBytes { get; init; }
    public required string WeightType { get; init; }
    public required int Threads { get; init; }
    public required int PromptTokens { get; init; }
    public required int GenTokens { get; init; }
    public required int Repeats { get; init; }
    public required Stats Prefill { get; init; }
    public required Stats Decode { get; init; }
    public required long PeakRssBytes { get; init; }
    public required long KvCacheBytes { get; init; }
    public required string[] CpuFeatures { get; init; }
    /// <summary>Weight bytes read per decoded token (<see cref="BenchRunner.WeightBytesPerToken"/>).</summary>
    public required long WeightBytesPerToken { get; init; }
    /// <summary>Measured memory read bandwidth (<c>--bandwidth</c>), 0 when not measured.</summary>
    public double BandwidthBytesPerSecond { get; init; }
    /// <summary>The decode speed memory allows: bandwidth / weight bytes per token (0 when not measured).</summary>
    public double DecodeLimitTokPerSecond => BandwidthBytesPerSecond > 0 && WeightBytesPerToken > 0 ? BandwidthBytesPerSecond / WeightBytesPerToken : 0;

    /// <summary>
    /// One JSON object: <c>prefill_tok_s</c> and <c>decode_tok_s</c> are medians (with <c>_min</c>/<c>_max</c>),
    /// <c>peak_rss_bytes</c> is VmHWM after the benchmark, <c>kv_cache_bytes</c> what the caches held at most.
    /// </summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("model", Model);
            w.WriteString("path", Path);
            w.WriteNumber("file_bytes", FileBytes);
            w.WriteString("weight_type", WeightType);
            w.WriteNumber("threads", Threads);
            w.WriteNumber("prompt_tokens", PromptTokens);
            w.WriteNumber("gen_tokens", GenTokens);
            w.WriteNumber("repeats", Repeats);
            WriteStats(w, "prefill_tok_s", Prefill);
            WriteStats(w, "decode_tok_s", Decode);
            w.WriteNumber("peak_rss_bytes", PeakRssBytes);
            w.WriteNumber("kv_cache_bytes", KvCacheBytes);
            w.WriteNumber("weight_bytes_per_token", WeightBytesPerToken);
            if (BandwidthBytesPerSecond > 0)
            {
                w.WriteNumber("bandwidth_bytes_s", Math.Round(BandwidthBytesPerSecond));
                w.WriteNumber("decode_limit_tok_s", Math.Round(DecodeLimitTokPerSecond, 2));
                if (Decode.Count > 0) w.WriteNumber("decode_percent_of_limit", Math.Round(100 * Decode.Median / DecodeLimitTokPerSecond, 1));
            }
            w.WriteStartArray("cpu_features");
            foreach (string f in CpuFeatures) w.WriteStringValue(f);
            w.WriteEndArray();
            w.WriteString("kernels", Bench.CpuFeatures.Kernels);
            w.WriteString("runtime", System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteStats(Utf8JsonWriter w, string name, Stats s)
    {
        w.WriteNumber(name, Math.Round(s.Median, 2));
        w.WriteNumber(name + "_min", Math.Round(s.Min, 2));
        w.WriteNumber(name + "_max", Math.Round(s.Max, 2));
    }

    /// <summary>A table in llama-bench's spirit: one row per test, median ± half the spread.</summary>
    public string ToTable()
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.AppendLine(inv, $"model: {Path} ({FileBytes / (1024.0 * 1024.0):F1} MiB, {WeightType})");
        sb.AppendLine(inv, $"cpu features: {string.Join(' ', CpuFeatures)}");
        sb.AppendLine("| weight type | threads | test | tok/s (median) | min | max | repeats |");
        sb.AppendLine("| --- | --- | --- | --- | --- | --- | --- |");
        if (Prefill.Count > 0) sb.AppendLine(inv, $"| {WeightType} | {Threads} | pp{PromptTokens} | {Prefill.Median:F2} | {Prefill.Min:F2} | {Prefill.Max:F2} | {Prefill.Count} |");
        if (Decode.Count > 0) sb.AppendLine(inv, $"| {WeightType} | {Threads} | tg{GenTokens} | {Decode.Median:F2} | {Decode.Min:F2} | {Decode.Max:F2} | {Decode.Count} |");
        if (BandwidthBytesPerSecond > 0)
        {
            sb.Append(inv, $"memory read bandwidth {BandwidthBytesPerSecond / 1e9:F1} GB/s on {Threads} thread(s); decode reads {WeightBytesPerToken / 1e6:F0} MB per token: limit {DecodeLimitTokPerSecond:F1} tok/s");
            if (Decode.Count > 0) sb.Append(inv, $", {100 * Decode.Median / DecodeLimitTokPerSecond:F0} % of it");
            sb.AppendLine();
        }
        sb.Append(inv, $"peak RSS {PeakRssBytes / (1024.0 * 1024.0):F1} MiB (file {FileBytes / (1024.0 * 1024.0):F1} MiB, KV cache {KvCacheBytes / (1024.0 * 1024.0):F1} MiB)");
        return sb.ToString();
    }
}
