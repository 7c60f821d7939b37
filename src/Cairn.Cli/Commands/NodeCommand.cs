using System.CommandLine;
using Cairn.Node.Provider;
using Microsoft.Extensions.DependencyInjection;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn node</c>: a provider that serves models to a gateway.</summary>
internal static class NodeCommand
{
    public static Command Create()
    {
        var gateway = new Option<string>("--gateway") { Description = "The gateway's gRPC address, e.g. http://127.0.0.1:5001", Required = true };
        var models = new Option<string[]>("--model", "-m") { Description = "Model file to serve (.gguf, or llama2.c .bin with --tokenizer); repeatable", Required = true };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "llama2.c tokenizer .bin (only with a llama2.c checkpoint)" };
        var template = new Option<string?>("--chat-template") { Description = "Chat template name when the model's own is missing or not recognized (chatml, llama2, llama3, zephyr, …)" };
        var port = new Option<int>("--port") { Description = "Port of the provider's gRPC server on 127.0.0.1 (0: any free port)", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads", "-t") { Description = "Compute threads", DefaultValueFactory = _ => Math.Min(Environment.ProcessorCount, 1024) };
        var price = new Option<ulong>("--price") { Description = "Price per token in micro-units", DefaultValueFactory = _ => 1 };
        var key = new Option<string?>("--key") { Description = "Encrypted key file of the provider's identity (default: an ephemeral key)" };
        var passphraseEnv = new Option<string?>("--passphrase-env") { Description = "Environment variable holding the key file's passphrase" };
        var layers = new Option<string?>("--layers") { Description = "Serve only layers A..B-1 of the model as a pipeline stage, e.g. 0:3 (the first stage embeds, the last samples); 'auto': a flexible stage that loads whatever range the gateway's planner assigns, within --memory" };
        var memory = new Option<string?>("--memory") { Description = "Memory budget, e.g. 300MB or 1.5GB: refuse to start if the weights plus a full-context KV cache exceed it" };
        var slowdown = new Option<double>("--slowdown") { Description = "Emulate a device X times slower than this machine: the stage calibrates its speed at start and pads each step to X x the calibrated time (1 to 1000)", DefaultValueFactory = _ => 1 };
        var parent = new Option<int?>("--parent-pid") { Hidden = true };
        var adapters = new Option<string[]>("--adapter") { Description = "LoRA adapter GGUF (llama.cpp's format) to serve on the model it fits; repeatable. Adapter files never leave this machine" };
        var fault = new Option<string?>("--fault") { Hidden = true, Description = "FAULT INJECTION for tests, comma-separated (see ProviderFaults): bad-signature, stall-after-tokens:N, claim-speed:X, wrong-seed, forge-commitment, substitute-model:FILE, cheaper-type:TYPE, skip-layers:L[,L…], random-tokens, truncate:N, forge-layer-hashes[:L], lazy-validator, collude:DIR, ignore-adapter" };
        var command = new Command("node", "Run a provider: serve models to a gateway and sign a receipt for every answer")
        {
            gateway, models, adapters, tokenizer, template, port, threads, price, layers, memory, slowdown, key, passphraseEnv, parent, fault,
        };
        command.SetAction((parse, cancel) => Task.FromResult(CliErrors.Run(() =>
        {
            if (!Uri.TryCreate(parse.GetValue(gateway), UriKind.Absolute, out var gw) || gw.Scheme is not ("http" or "https"))
                throw new ArgumentException($"--gateway '{parse.GetValue(gateway)}' is not an http(s) URL");
            int t = parse.GetValue(threads);
            if (t is < 1 or > 1024) throw new ArgumentException($"--threads {t} is out of range (1 to 1024)");
            double slow = parse.GetValue(slowdown);
            if (!(slow >= 1 && slow <= 1000)) throw new ArgumentException($"--slowdown {slow} is out of range (1 to 1000)");
            var options = new ProviderOptions
            {
                Layers = parse.GetValue(layers) is { } range && range != "auto" ? ParseLayers(range) : null,
                Flexible = parse.GetValue(layers) == "auto",
                MemoryBudget = parse.GetValue(memory) is { } mem ? ParseBytes(mem, "--memory") : null,
                Slowdown = slow,
                Gateway = gw.ToString().TrimEnd('/'),
                Models = parse.GetValue(models)!.Select(Path.GetFullPath).ToArray(),
                Adapters = (parse.GetValue(adapters) ?? []).Select(Path.GetFullPath).ToArray(),
                Tokenizer = parse.GetValue(tokenizer) is { } tok ? Path.GetFullPath(tok) : null,
                ChatTemplate = parse.GetValue(template),
                Port = GatewayCommand.CheckPort(parse.GetValue(port), "--port"),
                Threads = t,
                PricePerToken = parse.GetValue(price),
                Faults = ProviderFaults.Parse(parse.GetValue(fault)),
            };
            var identity = NodeIdentity.Load(parse.GetValue(key), parse.GetValue(passphraseEnv), "node");
            // Loading, hashing and benchmarking the models can take a while: progress on standard error.
            var app = CliProgress.Run($"loading {string.Join(", ", options.Models.Select(Path.GetFileName))}", () => ProviderNode.Build(options, identity));
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            NodeIdentity.ExitWithParent(parse.GetValue(parent), stop);
            app.StartAsync(stop.Token).GetAwaiter().GetResult();
            var registration = app.Services.GetRequiredService<ProviderRegistration>();
            Console.WriteLine($"provider: id={identity.Address} grpc={app.Urls.First()} models={string.Join(',', options.Models.Select(Path.GetFileName))}");
            Console.Out.Flush();
            try
            {
                Task.WaitAny([registration.Registered.Task], stop.Token);
                Console.WriteLine($"ready: registered with {options.Gateway}");
                Console.Out.Flush();
                Task.Delay(Timeout.Infinite, stop.Token).Wait();
            }
            catch (Exception e) when (e is OperationCanceledException or AggregateException)
            {
            }
            app.StopAsync().GetAwaiter().GetResult();
            return 0;
        })));
        return command;
    }

    /// <summary><c>A:B</c> with 0 ≤ A &lt; B (checked against the model's layer count when it is loaded).</summary>
    internal static (int Start, int End) ParseLayers(string text)
    {
        var parts = text.Split(':');
        if (parts.Length == 2 && int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int a)
            && int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int b) && a < b)
            return (a, b);
        throw new ArgumentException($"--layers '{text}' is not a layer range A:B with A < B (layers A to B-1), e.g. 0:3");
    }

    /// <summary>A size such as <c>300MB</c>, <c>1.5GB</c>, <c>512KiB</c> or a plain byte count (KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024).</summary>
    internal static long ParseBytes(string text, string option)
    {
        string t = text.Trim();
        int split = t.Length;
        while (split > 0 && char.IsLetter(t[split - 1])) split--;
        double unit = t[split..].ToUpperInvariant() switch
        {
            "" or "B" => 1,
            "KB" or "K" => 1e3,
            "MB" or "M" => 1e6,
            "GB" or "G" => 1e9,
            "KIB" => 1024,
            "MIB" => 1024 * 1024,
            "GIB" => 1024.0 * 1024 * 1024,
            _ => double.NaN,
        };
        if (double.IsNaN(unit) || !double.TryParse(t[..split], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double n)
            || !(n > 0) || n * unit > long.MaxValue)
            throw new ArgumentException($"{option} '{text}' is not a size such as 300MB, 1.5GB or 512MiB");
        return (long)(n * unit);
    }
}
