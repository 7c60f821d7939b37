using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Cairn.Engine.Models;
using Cairn.Protocol.Identity;

namespace Cairn.Cli.Devnet;

/// <summary>
/// <c>cairn devnet</c>: a gateway and N providers as separate processes on 127.0.0.1, their keys and receipts under
/// the data folder, ready when every provider has registered; stopped cleanly on Ctrl+C or SIGTERM.
/// </summary>
internal sealed class DevnetRunner(DevnetOptions options, TextWriter output)
{
    public const string PassphraseVariable = "CAIRN_DEVNET_PASSPHRASE";

    private readonly List<ChildProcess> _children = [];

    public async Task<int> Run(CancellationToken cancel)
    {
        string data = Path.GetFullPath(options.DataDirectory);
        string keys = Path.Combine(data, "keys"), logs = Path.Combine(data, "logs");
        Directory.CreateDirectory(keys);
        Directory.CreateDirectory(logs);
        string passphrase = Passphrase(keys);
        var env = new Dictionary<string, string> { [PassphraseVariable] = passphrase };
        string apiKey = options.ApiKey ?? "sk-cairn-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        string model = options.Model is { } m ? Path.GetFullPath(m) : SyntheticModelPath(data);
        if (!File.Exists(model)) throw new FileNotFoundException($"{model}: no such model file", model);
        int threads = options.ThreadsPerProvider ?? Math.Max(1, Environment.ProcessorCount / options.Providers);
        string pid = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);

        try
        {
            output.WriteLine($"devnet: data in {data}, logs in {logs}");
            output.Write("starting gateway … ");
            output.Flush();
            var gateway = Start("gateway", ["gateway", "--port", options.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--grpc-port", "0",
                "--api-key", apiKey, "--data", Path.Combine(data, "gateway"), "--key", Key(keys, "gateway"), "--passphrase-env", PassphraseVariable,
                "--parent-pid", pid, "--challenge-rate", options.EffectiveChallengeRate, "--model", model,
                .. (options.WorkCost is { } cost ? ["--work-cost", cost.ToString(System.Globalization.CultureInfo.InvariantCulture)] : Array.Empty<string>())], logs, env);
            string line = await gateway.WaitForLine("gateway: ", TimeSpan.FromSeconds(60), cancel);
            string api = Field(line, "api"), grpc = Field(line, "grpc");
            output.WriteLine($"ok ({api})");

            string? fault = options.Cheaters == 0 ? null
                : (CheatingStrategy.Find(options.Strategy) ?? throw new ArgumentException($"--strategy '{options.Strategy}' is not one of {CheatingStrategy.Names}"))
                    .Fault(model, options.Tokenizer is { } tk ? Path.GetFullPath(tk) : null, data, options.Cheaters);
            var providers = new List<ChildProcess>();
            for (int i = 1; i <= options.Providers; i++)
            {
                var args = new List<string>
                {
                    "node", "--gateway", grpc, "--model", model, "--threads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "--key", Key(keys, $"provider-{i}"), "--passphrase-env", PassphraseVariable, "--parent-pid", pid,
                };
                if (options.Tokenizer != null) args.AddRange(["--tokenizer", Path.GetFullPath(options.Tokenizer)]);
                if (options.ChatTemplate != null) args.AddRange(["--chat-template", options.ChatTemplate]);
                if (i > options.Providers - options.Cheaters) args.AddRange(["--fault", fault!]); // a cheater, for the demonstration
                providers.Add(Start($"provider-{i}", args, logs, env));
            }
            int ready = 0;
            output.Write($"starting {options.Providers} providers ({Path.GetFileName(model)}, {threads} thread{(threads == 1 ? "" : "s")} each): 0/{options.Providers} ready");
            output.Flush();
            await Task.WhenAll(providers.Select(async p =>
            {
                await p.WaitForLine("ready:", options.ReadyTimeout, cancel);
                int n = Interlocked.Increment(ref ready);
                lock (output)
                {
                    // On a terminal the count updates in place; in a log, one line per provider.
                    output.Write(Console.IsOutputRedirected ? $"\n  {p.Name} ready ({n}/{options.Providers})" : $"\rstarting {options.Providers} providers ({Path.GetFileName(model)}, {threads} thread{(threads == 1 ? "" : "s")} each): {n}/{options.Providers} ready");
                    output.Flush();
                }
            }));
            output.WriteLine();

            using var http = new HttpClient { BaseAddress = new Uri(api), Timeout = TimeSpan.FromMinutes(5) };
            http.DefaultRequestHeaders.Authorization = new("Bearer", apiKey);
            var health = await http.GetFromJsonAsync<JsonElement>("/healthz", cancel);
            int healthy = health.GetProperty("healthy_providers").GetInt32();
            if (healthy != options.Providers) throw new InvalidOperationException($"the gateway reports {healthy} healthy providers of {options.Providers}");
            string modelName = health.GetProperty("models")[0].GetString()!;

            output.WriteLine($"ready: {api}/v1");
            output.WriteLine($"api key: {apiKey}");
            output.WriteLine($"model: {modelName}");
            output.WriteLine("try:");
            output.WriteLine($"  curl -s {api}/v1/chat/completions -H \"Authorization: Bearer {apiKey}\" -H \"Content-Type: application/json\" \\");
            output.WriteLine($"    -d '{{\"model\":\"{modelName}\",\"messages\":[{{\"role\":\"user\",\"content\":\"Tell me a story\"}}],\"max_tokens\":32}}'");
            output.Flush();

            if (options.Demo)
            {
                var demoStarted = DateTimeOffset.UtcNow;
                var (report, served) = await DevnetDemo.Run(http, modelName, cancel, options.DemoRequests);
                output.WriteLine(report);
                if (options.EffectiveChallengeRate is not ("0" or "0%"))
                {
                    var names = new Dictionary<string, string>(StringComparer.Ordinal);
                    foreach (var p in providers)
                    {
                        string id = Field(await p.WaitForLine("provider: id=", TimeSpan.FromSeconds(5), cancel), "id");
                        names[id] = p.Name + (providers.IndexOf(p) >= options.Providers - options.Cheaters ? $" [cheater: {options.Strategy}]" : "");
                    }
                    output.WriteLine(await DevnetDemo.Challenges(http, names, demoStarted, served, cancel));
                }
                output.Flush();
                return 0;
            }
            output.WriteLine("press Ctrl+C to stop");
            output.Flush();
            var exited = Task.WhenAny(_children.Select(c => Task.Run(async () =>
            {
                while (!c.HasExited) await Task.Delay(500, cancel);
                return c;
            }, cancel)));
            try
            {
                var dead = await (await exited);
                output.WriteLine($"devnet: {dead.Name} exited unexpectedly; see {dead.LogPath}:\n{dead.Tail()}");
                return 1;
            }
            catch (OperationCanceledException)
            {
                return 0;
            }
        }
        finally
        {
            output.Write("stopping … ");
            output.Flush();
            foreach (var c in Enumerable.Reverse(_children)) c.Dispose();
            output.WriteLine("stopped");
            output.Flush();
        }
    }

    private ChildProcess Start(string name, IEnumerable<string> args, string logs, IReadOnlyDictionary<string, string> env)
    {
        var child = ChildProcess.Start(name, args, Path.Combine(logs, name + ".log"), env);
        _children.Add(child);
        return child;
    }

    private static string Field(string line, string name)
    {
        foreach (string part in line.Split(' '))
        {
            if (part.StartsWith(name + "=", StringComparison.Ordinal)) return part[(name.Length + 1)..];
        }
        throw new InvalidOperationException($"'{line}' has no {name}=");
    }

    /// <summary>The devnet's key passphrase, kept beside the keys (a devnet is a local toy; real nodes ask for theirs).</summary>
    private static string Passphrase(string keys)
    {
        string path = Path.Combine(keys, "passphrase");
        if (File.Exists(path)) return File.ReadAllText(path).Trim();
        string passphrase = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        File.WriteAllText(path, passphrase);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return passphrase;
    }

    private static string Key(string keys, string name)
    {
        string path = Path.Combine(keys, name + ".json");
        if (!File.Exists(path))
        {
            using var key = Secp256k1Key.Generate(RandomNumberGenerator.Create());
            KeyFile.Save(path, key, Passphrase(keys), RandomNumberGenerator.Create());
        }
        return path;
    }

    private string SyntheticModelPath(string data)
    {
        string path = Path.Combine(data, "synthetic-llama-Q8_0.gguf");
        var spec = new SyntheticModelSpec { WeightType = Engine.Tensors.GgmlType.Q8_0, Layers = 4, HiddenDim = 768, ContextLength = 1024 };
        output.WriteLine($"devnet: no --model given: serving a synthetic model with random weights ({spec.Architecture}, {spec.WeightType}, dim {spec.Dim}, " +
            $"{spec.Layers} layers); its text is gibberish. Pass --model FILE.gguf for a real model.");
        if (!File.Exists(path)) SyntheticModel.Write(path, spec);
        return path;
    }
}
