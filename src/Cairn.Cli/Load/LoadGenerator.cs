using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Cairn.Cli.Load;

/// <summary>One request of a load run.</summary>
/// <param name="Start">When it was sent, from the start of the run.</param>
/// <param name="Success">HTTP 2xx, a stream that ended with [DONE], and no error event.</param>
/// <param name="Tokens">Completion tokens: the server's usage when sent, else the content chunks.</param>
/// <param name="Latency">From sending to the end of the stream.</param>
/// <param name="FirstToken">From sending to the first non-empty content; null when none came.</param>
/// <param name="Status">The HTTP status; null when no response came.</param>
/// <param name="Error">Why it failed; null on success.</param>
/// <param name="Id">The completion's id (Cairn: also its receipt's id).</param>
/// <param name="Fingerprint">The <c>system_fingerprint</c> of its chunks.</param>
public readonly record struct RequestRecord(TimeSpan Start, bool Success, int Tokens, TimeSpan Latency, TimeSpan? FirstToken, int? Status,
    string? Error, string? Id, string? Fingerprint);

/// <summary>
/// A bounded load generator for OpenAI-compatible servers on loopback: <see cref="LoadOptions.Clients"/> clients
/// send streamed chat completions back to back, each waiting for its answer before sending the next.
/// </summary>
public static class LoadGenerator
{
    /// <summary>
    /// Runs the load and summarizes it. Refuses (with <see cref="ArgumentException"/>) a URL that is not loopback.
    /// Cancelling <paramref name="cancellationToken"/> stops the clients at once; requests then in flight are dropped
    /// (not counted) and the report of what finished comes back with <see cref="LoadReport.Interrupted"/> set.
    /// </summary>
    public static async Task<LoadReport> RunAsync(LoadOptions options, IProgress<LoadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        using var http = Client(8);
        string baseUrl = options.BaseUrl.ToString().TrimEnd('/');
        var run = new Run(options, baseUrl + "/chat/completions", RequestBody(options));

        using var reporting = new CancellationTokenSource();
        Task reporter = progress is null ? Task.CompletedTask : run.ReportAsync(progress, reporting.Token);
        var clients = new Task<List<RequestRecord>>[options.Clients];
        for (int i = 0; i < clients.Length; i++) clients[i] = Task.Run(() => run.ClientAsync(cancellationToken), CancellationToken.None);
        var lists = await Task.WhenAll(clients);
        TimeSpan elapsed = run.Clock.Elapsed;
        await reporting.CancelAsync();
        await reporter;
        progress?.Report(run.Snapshot());

        var records = lists.SelectMany(l => l).OrderBy(r => r.Start).ToList();
        bool interrupted = cancellationToken.IsCancellationRequested;
        ProviderShares? shares = null;
        try
        {
            if (!interrupted) shares = await ProviderSharesAsync(http, baseUrl, options, records, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            interrupted = true;
        }
        return LoadReport.Create(options, records, elapsed, interrupted, shares) with { Reconnects = run.Reconnects };
    }

    /// <summary>An HTTP client that never goes through a proxy nor follows a redirect (so never leaves loopback).</summary>
    private static HttpClient Client(int connections) => new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        MaxConnectionsPerServer = connections,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        ConnectTimeout = TimeSpan.FromSeconds(10),
    })
    { Timeout = Timeout.InfiniteTimeSpan };

    private static byte[] RequestBody(LoadOptions o)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("model", o.Model);
            w.WriteStartArray("messages");
            w.WriteStartObject();
            w.WriteString("role", "user");
            w.WriteString("content", o.Prompt);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteNumber("max_tokens", o.MaxTokens);
            w.WriteNumber("temperature", o.Temperature);
            w.WriteBoolean("stream", true);
            w.WriteStartObject("stream_options");
            w.WriteBoolean("include_usage", true);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private sealed class Run(LoadOptions options, string url, byte[] body)
    {
        public Stopwatch Clock { get; } = Stopwatch.StartNew();
        private int _started, _completed, _failed, _inFlight;
        private long _tokens;

        public LoadProgress Snapshot() => new(Clock.Elapsed, Volatile.Read(ref _completed), Volatile.Read(ref _failed), Interlocked.Read(ref _tokens), Volatile.Read(ref _inFlight));

        public async Task ReportAsync(IProgress<LoadProgress> progress, CancellationToken stop)
        {
            using var timer = new PeriodicTimer(options.ProgressInterval);
            try
            {
                while (await timer.WaitForNextTickAsync(stop)) progress.Report(Snapshot());
            }
            catch (OperationCanceledException)
            {
            }
        }

        /// <summary>One client: one connection of its own (like a real client), requests back to back.</summary>
        public async Task<List<RequestRecord>> ClientAsync(CancellationToken cancel)
        {
            using var http = Client(1);
            var mine = new List<RequestRecord>();
            while (!cancel.IsCancellationRequested)
            {
                if (options.Duration is { } d && Clock.Elapsed >= d) break;
                if (options.Requests is { } n && Interlocked.Increment(ref _started) > n) break;
                Interlocked.Increment(ref _inFlight);
                RequestRecord? r;
                try
                {
                    r = await OneAsync(http, cancel);
                }
                finally
                {
                    Interlocked.Decrement(ref _inFlight);
                }
                if (r is not { } record) break;
                mine.Add(record);
                if (record.Success) Interlocked.Add(ref _tokens, record.Tokens);
                else Interlocked.Increment(ref _failed);
                Interlocked.Increment(ref _completed);
            }
            return mine;
        }

        /// <summary>
        /// One streamed request; null when the run was cancelled while it was in flight. A kept-alive connection that
        /// the server had already closed (the request ends with no response at all, as llama-server does to every
        /// connection after a streamed answer) is retried once on a fresh connection, as curl and browsers do; such
        /// retries are counted in <see cref="LoadReport.Reconnects"/>.
        /// </summary>
        private async Task<RequestRecord?> OneAsync(HttpClient http, CancellationToken cancel)
        {
            TimeSpan start = Clock.Elapsed;
            TimeSpan? first = null;
            int? status = null;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            timeout.CancelAfter(options.RequestTimeout);
            RequestRecord Failed(string error) => new(start, false, 0, Clock.Elapsed - start, first, status, error, null, null);
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
                    request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
                    if (!string.IsNullOrEmpty(options.ApiKey)) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiKey);
                    using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                    status = (int)response.StatusCode;
                    if (!response.IsSuccessStatusCode)
                    {
                        string text = await response.Content.ReadAsStringAsync(timeout.Token);
                        return Failed($"HTTP {status}: {ErrorMessage(text)}");
                    }
                    await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
                    var result = await ChatStreamReader.ReadAsync(stream, () => first = Clock.Elapsed - start, timeout.Token);
                    return new RequestRecord(start, result.Success, result.Tokens, Clock.Elapsed - start, first, status, result.Error, result.Id, result.SystemFingerprint);
                }
                catch (OperationCanceledException) when (cancel.IsCancellationRequested)
                {
                    return null;
                }
                catch (OperationCanceledException)
                {
                    return Failed($"timeout: no complete answer within {options.RequestTimeout.TotalSeconds:0} s");
                }
                catch (HttpRequestException e) when (attempt == 1 && status is null && e.HttpRequestError == HttpRequestError.ResponseEnded)
                {
                    Interlocked.Increment(ref _reconnects);
                }
                catch (HttpRequestException e)
                {
                    return Failed("connection: " + Describe(e));
                }
                catch (IOException e)
                {
                    return Failed("connection: " + Describe(e));
                }
            }
        }

        private int _reconnects;
        public int Reconnects => Volatile.Read(ref _reconnects);
    }

    private static string Describe(Exception e)
    {
        var parts = new List<string>();
        for (var x = e; x != null; x = x.InnerException) parts.Add(x.Message);
        return string.Join(" ← ", parts.Distinct());
    }

    /// <summary>The <c>error.message</c> of an OpenAI error body, else the body's start.</summary>
    internal static string ErrorMessage(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var e))
                return e.ValueKind == JsonValueKind.Object && e.TryGetProperty("message", out var m) ? m.ToString() : e.ToString();
        }
        catch (JsonException)
        {
        }
        body = body.Trim();
        return body.Length <= 200 ? body : body[..200] + "…";
    }

    /// <summary>
    /// When the server is Cairn, looks up the receipts of a spread sample of successful answers and counts them by
    /// provider. Null when the server is not Cairn or no lookup was asked for.
    /// </summary>
    private static async Task<ProviderShares?> ProviderSharesAsync(HttpClient http, string baseUrl, LoadOptions options, List<RequestRecord> records,
        CancellationToken cancel)
    {
        var ok = records.Where(r => r.Success && r.Id != null).ToList();
        if (options.ReceiptLookups == 0 || ok.Count == 0) return null;
        if (!ok.Any(r => r.Fingerprint?.StartsWith("cairn", StringComparison.Ordinal) == true)) return null;
        int k = Math.Min(options.ReceiptLookups, ok.Count);
        var sample = Enumerable.Range(0, k).Select(i => ok[(int)((long)i * ok.Count / k)].Id!).ToList();
        var byProvider = new Dictionary<string, int>(StringComparer.Ordinal);
        int failed = 0;
        var gate = new Lock();
        await Parallel.ForEachAsync(sample, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancel }, async (id, ct) =>
        {
            string? provider = null;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"{baseUrl}/receipts/{Uri.EscapeDataString(id)}");
                if (!string.IsNullOrEmpty(options.ApiKey)) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiKey);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(30));
                using var response = await http.SendAsync(request, timeout.Token);
                if (response.IsSuccessStatusCode)
                {
                    using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(timeout.Token));
                    if (doc.RootElement.TryGetProperty("provider", out var p) && p.ValueKind == JsonValueKind.String) provider = p.GetString();
                }
            }
            catch (Exception e) when (e is HttpRequestException or IOException or JsonException or OperationCanceledException && !cancel.IsCancellationRequested)
            {
            }
            lock (gate)
            {
                if (provider is null) failed++;
                else byProvider[provider] = byProvider.GetValueOrDefault(provider) + 1;
            }
        });
        return new ProviderShares(k, failed, byProvider.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => new ProviderShare(p.Key, p.Value, (double)p.Value / Math.Max(1, k - failed))).ToList());
    }
}
