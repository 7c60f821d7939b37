using System.Net;

namespace Cairn.Cli.Load;

/// <summary>
/// What a load run does: <see cref="Clients"/> concurrent clients, each sending streamed chat completions back to back
/// to an OpenAI-compatible API on loopback, until <see cref="Duration"/> has passed or <see cref="Requests"/> were
/// started (whichever comes first). Requests already started when the run ends are awaited (bounded by
/// <see cref="RequestTimeout"/>), so nothing is cut off and counted as a failure by the generator itself.
/// </summary>
public sealed record LoadOptions
{
    public const int MaxClients = 1024;
    public const int MaxRequests = 1_000_000;
    public static readonly TimeSpan MaxDuration = TimeSpan.FromHours(1);

    /// <summary>The API base, e.g. <c>http://127.0.0.1:8080/v1</c>. Only loopback hosts are accepted.</summary>
    public required Uri BaseUrl { get; init; }

    /// <summary>Sent as <c>Authorization: Bearer …</c>; null or empty sends no header.</summary>
    public string? ApiKey { get; init; }

    /// <summary>The <c>model</c> field of every request.</summary>
    public required string Model { get; init; }

    public int Clients { get; init; } = 32;

    /// <summary>No new request starts after this much time; null: only <see cref="Requests"/> bounds the run.</summary>
    public TimeSpan? Duration { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>At most this many requests in all; null: only <see cref="Duration"/> bounds the run.</summary>
    public int? Requests { get; init; }

    public int MaxTokens { get; init; } = 32;
    public double Temperature { get; init; } = 0.7;

    /// <summary>The user message of every request.</summary>
    public string Prompt { get; init; } = "Once upon a time";

    /// <summary>A request still running after this long is abandoned and counted as failed.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>
    /// When the server is Cairn (its chunks carry a <c>cairn</c> system fingerprint), how many successful answers to look
    /// up with <c>GET /v1/receipts/{id}</c> after the run to measure each provider's share; spread evenly over the run.
    /// 0: none; <see cref="int.MaxValue"/>: all.
    /// </summary>
    public int ReceiptLookups { get; init; } = 256;

    /// <summary>How often <see cref="LoadProgress"/> is reported.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Throws <see cref="ArgumentException"/> when the options are out of bounds or the URL is not loopback.</summary>
    public void Validate()
    {
        if (!BaseUrl.IsAbsoluteUri || BaseUrl.Scheme is not ("http" or "https"))
            throw new ArgumentException($"--url '{BaseUrl}' is not an http(s) URL");
        if (!IsLoopback(BaseUrl))
            throw new ArgumentException($"--url '{BaseUrl}' is not a loopback address: load is only ever sent to 127.0.0.0/8, [::1] or localhost");
        if (string.IsNullOrWhiteSpace(Model)) throw new ArgumentException("--model is empty");
        if (Clients is < 1 or > MaxClients) throw new ArgumentException($"--clients {Clients} is out of range (1 to {MaxClients})");
        if (Duration is null && Requests is null) throw new ArgumentException("give a duration or a request count (or both)");
        if (Duration is { } d && (d <= TimeSpan.Zero || d > MaxDuration))
            throw new ArgumentException($"--duration {d.TotalSeconds:0.###} s is out of range (more than 0, at most {MaxDuration.TotalSeconds:0} s)");
        if (Requests is { } r && r is < 1 or > MaxRequests) throw new ArgumentException($"--requests {Requests} is out of range (1 to {MaxRequests})");
        if (MaxTokens is < 1 or > 1 << 20) throw new ArgumentException($"--max-tokens {MaxTokens} is out of range (1 to {1 << 20})");
        if (!double.IsFinite(Temperature) || Temperature is < 0 or > 100) throw new ArgumentException($"--temperature {Temperature} is out of range (0 to 100)");
        if (RequestTimeout <= TimeSpan.Zero || RequestTimeout > TimeSpan.FromHours(1)) throw new ArgumentException("the request timeout is out of range (more than 0, at most 1 h)");
        if (ReceiptLookups < 0) throw new ArgumentException("--receipts is negative");
        if (ProgressInterval <= TimeSpan.Zero) throw new ArgumentException("the progress interval must be positive");
    }

    /// <summary>True for 127.0.0.0/8, ::1 and the name localhost. Other names are refused without resolving them.</summary>
    public static bool IsLoopback(Uri url)
    {
        string host = url.IdnHost.Trim('[', ']');
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip);
    }
}

/// <summary>A snapshot while a run is under way.</summary>
public readonly record struct LoadProgress(TimeSpan Elapsed, int Completed, int Failed, long Tokens, int InFlight);
