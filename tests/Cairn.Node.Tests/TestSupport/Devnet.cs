using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net.Http.Headers;
using System.Text.Json;
using OpenAI;

namespace Cairn.Node.Tests.TestSupport;

/// <summary>
/// A real network on loopback: one <c>cairn gateway</c> child process and any number of <c>cairn node</c> providers,
/// each a child process, synchronised on the lines they print ("gateway: api=…", "provider: id=…", "ready: …").
/// </summary>
public sealed class Devnet : IAsyncDisposable
{
    public const string ApiKey = "sk-test-cairn-node-tests";
    public const string ModelName = "aidreams260K";

    private readonly ChildProcess _gateway;
    private readonly List<ProviderProcess> _providers = [];
    private readonly string _data;

    private Devnet(ChildProcess gateway, string data, string api, string grpc, string id)
    {
        _gateway = gateway;
        _data = data;
        Api = api;
        Grpc = grpc;
        GatewayId = id;
        Http = new HttpClient { BaseAddress = new Uri(api), Timeout = TimeSpan.FromSeconds(60) };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
    }

    public static string ModelPath => ReferenceData.Model(ModelName + ".gguf");

    /// <summary>e.g. http://127.0.0.1:41234 (the OpenAI base URL is this plus /v1).</summary>
    public string Api { get; }
    public string Grpc { get; }
    public string GatewayId { get; }
    /// <summary>The gateway's --data folder (its ledger and receipts).</summary>
    public string DataDirectory => _data;
    public ChildProcess Gateway => _gateway;
    public IReadOnlyList<ProviderProcess> Providers => _providers;
    /// <summary>An HTTP client that sends the API key.</summary>
    public HttpClient Http { get; }

    /// <summary>The official OpenAI SDK pointed at this gateway, with its own retries off so that every failure shows.</summary>
    public OpenAIClient OpenAi(string? apiKey = null) => new(new ApiKeyCredential(apiKey ?? ApiKey), new OpenAIClientOptions
    {
        Endpoint = new Uri(Api + "/v1"),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        NetworkTimeout = TimeSpan.FromSeconds(60),
    });

    public static Task<Devnet> StartAsync(int providers, params string?[] faults) => StartWithGatewayArgsAsync(providers, [], faults);

    /// <summary>As above, with extra arguments for the gateway (e.g. its ledger's initial credit).</summary>
    public static async Task<Devnet> StartWithGatewayArgsAsync(int providers, string[] gatewayArgs, params string?[] faults)
    {
        string data = Path.Combine(Path.GetTempPath(), "cairn-node-tests-" + Guid.NewGuid().ToString("N")[..12]);
        var gateway = ChildProcess.Start("gateway", ["gateway", "--port", "0", "--api-key", ApiKey, "--data", data, .. gatewayArgs]);
        Devnet? net = null;
        try
        {
            string line = await gateway.WaitForLine("gateway: api=");
            var fields = line.Split(' ').Where(p => p.Contains('=')).ToDictionary(p => p[..p.IndexOf('=')], p => p[(p.IndexOf('=') + 1)..]);
            net = new Devnet(gateway, data, fields["api"], fields["grpc"], fields["id"]);
            await Task.WhenAll(Enumerable.Range(0, providers).Select(i => net.AddProviderAsync(i < faults.Length ? faults[i] : null)));
            return net;
        }
        catch
        {
            if (net != null) await net.DisposeAsync();
            else gateway.Dispose();
            throw;
        }
    }

    /// <summary>Starts one more provider of the reference model and waits until the gateway accepted its registration.</summary>
    public Task<ProviderProcess> AddProviderAsync(string? fault = null, int threads = 1, IReadOnlyDictionary<string, string>? environment = null) =>
        AddNodeAsync(ModelPath, [], fault, threads, environment);

    /// <summary>Starts a provider of <paramref name="modelPath"/> with extra <c>cairn node</c> arguments (e.g. <c>--layers 0:3</c>).</summary>
    public async Task<ProviderProcess> AddNodeAsync(string modelPath, IEnumerable<string> extra, string? fault = null, int threads = 1,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var args = new List<string> { "node", "--gateway", Grpc, "--model", modelPath, "--threads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        args.AddRange(extra);
        if (fault != null) args.AddRange(["--fault", fault]);
        string name = $"provider {_providers.Count}{(fault is null ? "" : " [" + fault + "]")}{(environment is null ? "" : " [" + string.Join(' ', environment.Select(e => e.Key + "=" + e.Value)) + "]")}";
        var process = ChildProcess.Start(name, environment ?? new Dictionary<string, string>(), args.ToArray());
        lock (_providers) _providers.Add(new ProviderProcess(process, ""));
        string line = await process.WaitForLine("provider: id=");
        string id = line.Split(' ')[1]["id=".Length..];
        await process.WaitForLine("ready:");
        var provider = new ProviderProcess(process, id);
        lock (_providers) _providers[_providers.FindIndex(p => p.Process == process)] = provider;
        return provider;
    }

    /// <summary>
    /// <c>GET /v1/challenges</c> once no challenge is pending and at least <paramref name="count"/> are listed (a report
    /// that says none is pending lists every challenge drawn so far); fails after <paramref name="timeout"/>.
    /// </summary>
    public async Task<JsonElement> ChallengesDecidedAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            using var doc = JsonDocument.Parse(await Http.GetStringAsync("/v1/challenges"));
            var report = doc.RootElement;
            if (report.GetProperty("pending").GetInt32() == 0 && report.GetProperty("challenges").GetArrayLength() >= count) return report.Clone();
            Assert.True(DateTime.UtcNow < deadline, $"timed out: {report.GetProperty("challenges").GetArrayLength()} of {count} challenges decided, {report.GetProperty("pending").GetInt32()} pending\n{Logs()}");
            await Task.Delay(100);
        }
    }

    public async Task<Health> HealthAsync()
    {
        using var doc = JsonDocument.Parse(await Http.GetStringAsync("/healthz"));
        var r = doc.RootElement;
        return new Health(r.GetProperty("healthy_providers").GetInt32(), r.GetProperty("known_providers").GetInt32(), r.GetProperty("receipts").GetInt32());
    }

    /// <summary>All output of every process, for failure messages.</summary>
    public string Logs() => string.Join("\n", new[] { _gateway.Output }.Concat(_providers.Select(p => p.Process.Output)));

    public ValueTask DisposeAsync()
    {
        foreach (var p in _providers) p.Process.Dispose();
        _gateway.Dispose();
        Http.Dispose();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
        return ValueTask.CompletedTask;
    }

    public sealed record ProviderProcess(ChildProcess Process, string Id);

    public sealed record Health(int HealthyProviders, int KnownProviders, int Receipts);
}
