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
        var parent = new Option<int?>("--parent-pid") { Hidden = true };
        var fault = new Option<string?>("--fault") { Hidden = true, Description = "FAULT INJECTION for tests, comma-separated (see ProviderFaults): bad-signature, stall-after-tokens:N, claim-speed:X, wrong-seed, forge-commitment, substitute-model:FILE, cheaper-type:TYPE, skip-layers:L[,L…], random-tokens, truncate:N, forge-layer-hashes[:L], lazy-validator, collude:DIR" };
        var command = new Command("node", "Run a provider: serve models to a gateway and sign a receipt for every answer")
        {
            gateway, models, tokenizer, template, port, threads, price, key, passphraseEnv, parent, fault,
        };
        command.SetAction((parse, cancel) => Task.FromResult(CliErrors.Run(() =>
        {
            if (!Uri.TryCreate(parse.GetValue(gateway), UriKind.Absolute, out var gw) || gw.Scheme is not ("http" or "https"))
                throw new ArgumentException($"--gateway '{parse.GetValue(gateway)}' is not an http(s) URL");
            int t = parse.GetValue(threads);
            if (t is < 1 or > 1024) throw new ArgumentException($"--threads {t} is out of range (1 to 1024)");
            var options = new ProviderOptions
            {
                Gateway = gw.ToString().TrimEnd('/'),
                Models = parse.GetValue(models)!.Select(Path.GetFullPath).ToArray(),
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
}
