using System.Net;
using System.Net.Sockets;
using System.Text;
using Cairn.Cli.Load;

namespace Cairn.Engine.Tests.Load;

public sealed class LoadGeneratorTests
{
    [Theory]
    [InlineData("http://127.0.0.1:8080/v1")]
    [InlineData("http://127.9.8.7:1/v1")]
    [InlineData("http://localhost:8080/v1")]
    [InlineData("http://[::1]:8080/v1")]
    public void Loopback_urls_are_accepted(string url) =>
        new LoadOptions { BaseUrl = new Uri(url), Model = "m" }.Validate();

    [Theory]
    [InlineData("http://10.0.0.1:8080/v1")]
    [InlineData("http://192.168.1.10/v1")]
    [InlineData("http://172.16.0.1/v1")]
    [InlineData("http://8.8.8.8/v1")]
    [InlineData("http://example.com/v1")]
    [InlineData("http://localhost.example.com/v1")]
    [InlineData("http://0.0.0.0:8080/v1")]
    [InlineData("http://[::ffff:10.0.0.1]/v1")]
    [InlineData("ftp://127.0.0.1/v1")]
    public async Task Other_addresses_are_refused_before_anything_is_sent(string url)
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => LoadGenerator.RunAsync(new LoadOptions { BaseUrl = new Uri(url), Model = "m", Requests = 1 }));
        Assert.Contains(url.StartsWith("ftp") ? "not an http(s) URL" : "not a loopback address", e.Message);
    }

    [Theory]
    [InlineData(0, 60.0, null)]
    [InlineData(2000, 60.0, null)]
    [InlineData(1, 7200.0, null)]
    [InlineData(1, null, 0)]
    [InlineData(1, null, null)]
    public void The_run_is_bounded(int clients, double? seconds, int? requests)
    {
        var o = new LoadOptions
        {
            BaseUrl = new Uri("http://127.0.0.1:1/v1"),
            Model = "m",
            Clients = clients,
            Duration = seconds is { } s ? TimeSpan.FromSeconds(s) : null,
            Requests = requests,
        };
        Assert.Throws<ArgumentException>(o.Validate);
    }

    [Fact]
    public void Percentiles_are_nearest_rank()
    {
        var xs = Enumerable.Range(1, 20).Select(i => TimeSpan.FromSeconds(i)).ToList();
        Assert.Equal(TimeSpan.FromSeconds(10), LoadReport.Percentile(xs, 0.50));
        Assert.Equal(TimeSpan.FromSeconds(19), LoadReport.Percentile(xs, 0.95));
        Assert.Null(LoadReport.Percentile([], 0.5));
    }

    /// <summary>
    /// A canned server on loopback answering in turn: a good stream, a truncated one, an HTTP 503 with an OpenAI error,
    /// an error event, and a good one whose connection the server then drops (as llama-server does); only the good
    /// ones count, the dropped keep-alive connection is retried once.
    /// </summary>
    [Fact]
    public async Task Failures_of_every_kind_are_counted_and_explained()
    {
        const string good = "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n"
            + "data: {\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":4,\"total_tokens\":5}}\n\ndata: [DONE]\n\n";
        var answers = new (int Status, string Body, bool Close)[]
        {
            (200, good, false),
            (200, "data: {\"id\":\"c2\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n", false),
            (503, "{\"error\":{\"message\":\"no healthy provider\",\"type\":\"server_error\"}}", false),
            (200, "data: {\"error\":{\"message\":\"the provider failed mid-stream\"}}\n\ndata: [DONE]\n\n", false),
            (200, good, false),
        };
        answers[4].Close = true;
        await using var server = new CannedServer(answers, truncatedIndex: 1);
        var report = await LoadGenerator.RunAsync(new LoadOptions
        {
            BaseUrl = new Uri($"http://127.0.0.1:{server.Port}/v1"),
            Model = "m",
            ApiKey = "secret-key",
            Clients = 1,
            Duration = null,
            Requests = 10,
            RequestTimeout = TimeSpan.FromSeconds(20),
        });
        Assert.Equal(10, report.Requests);
        Assert.Equal(6, report.Failed);
        Assert.Equal(16, report.Tokens);
        Assert.Null(report.Providers); // not Cairn: no receipts looked up
        Assert.Contains(report.Errors, e => e.Error.StartsWith("truncated", StringComparison.Ordinal) && e.Count == 2);
        Assert.Contains(report.Errors, e => e.Error == "HTTP 503: no healthy provider" && e.Count == 2);
        Assert.Contains(report.Errors, e => e.Error == "error event: the provider failed mid-stream" && e.Count == 2);
        Assert.True(report.LatencyP50 > TimeSpan.Zero && report.FirstTokenP95 >= report.FirstTokenP50);
        Assert.All(server.Requests, r => Assert.Contains("Authorization: Bearer secret-key", r));
        Assert.All(server.Requests, r => Assert.Contains("\"stream\":true", r));
        string text = report.Format();
        Assert.Contains("failed                  6", text);
        Assert.Contains("\"failed\": 6", report.ToJson());
    }

    /// <summary>A minimal HTTP/1.1 server on loopback that answers requests with canned responses in turn (keep-alive unless told to close).</summary>
    private sealed class CannedServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly (int Status, string Body, bool Close)[] _answers;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private int _next;

        private readonly int _truncated;

        /// <param name="answers">Status, body, and whether to close the connection after a complete answer.</param>
        /// <param name="truncatedIndex">The answer sent without a length and cut by closing the connection.</param>
        public CannedServer((int, string, bool)[] answers, int truncatedIndex)
        {
            _answers = answers;
            _truncated = truncatedIndex;
            _listener.Start();
            _loop = Task.Run(AcceptLoop);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
        public List<string> Requests { get; } = [];

        private async Task AcceptLoop()
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    _ = Task.Run(() => Serve(client));
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        private async Task Serve(TcpClient client)
        {
            using var _ = client;
            var stream = client.GetStream();
            var reader = new StreamReader(stream, Encoding.ASCII);
            try
            {
                while (true)
                {
                    var head = new StringBuilder();
                    int length = 0;
                    string? line;
                    while (!string.IsNullOrEmpty(line = await reader.ReadLineAsync(_stop.Token)))
                    {
                        head.AppendLine(line);
                        if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) length = int.Parse(line[15..].Trim());
                    }
                    if (line is null) return;
                    var body = new char[length];
                    int read = 0;
                    while (read < length) read += await reader.ReadAsync(body.AsMemory(read), _stop.Token);
                    lock (Requests) Requests.Add(head + new string(body));
                    int index = (Interlocked.Increment(ref _next) - 1) % _answers.Length;
                    var (status, text, close) = _answers[index];
                    string type = status == 200 ? "text/event-stream" : "application/json";
                    byte[] payload = Encoding.UTF8.GetBytes(text);
                    bool truncated = index == _truncated;
                    close |= truncated;
                    // The truncated answer has a close-delimited body; the rest carry their length.
                    string headers = truncated
                        ? $"HTTP/1.1 {status} X\r\nContent-Type: {type}\r\n\r\n"
                        : $"HTTP/1.1 {status} X\r\nContent-Type: {type}\r\nContent-Length: {payload.Length}\r\n\r\n";
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(headers), _stop.Token);
                    await stream.WriteAsync(payload, _stop.Token);
                    await stream.FlushAsync(_stop.Token);
                    if (close) return;
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or SocketException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _loop;
        }
    }
}
