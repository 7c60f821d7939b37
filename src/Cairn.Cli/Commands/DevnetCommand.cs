using System.CommandLine;
using Cairn.Cli.Devnet;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn devnet</c>: a whole network on this machine.</summary>
internal static class DevnetCommand
{
    public static Command Create()
    {
        var providers = new Option<int>("--providers") { Description = "Provider processes to start", DefaultValueFactory = _ => 4 };
        var model = new Option<string?>("--model", "-m") { Description = "Model every provider serves (.gguf, or llama2.c .bin with --tokenizer); default: a synthetic model" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "llama2.c tokenizer .bin (only with a llama2.c checkpoint)" };
        var template = new Option<string?>("--chat-template") { Description = "Chat template name when the model's own is missing or not recognized" };
        var port = new Option<int>("--port") { Description = "Port of the OpenAI-compatible API on 127.0.0.1", DefaultValueFactory = _ => 8080 };
        var apiKey = new Option<string?>("--api-key") { Description = "API key clients send (default: a fresh random key, printed)" };
        var data = new Option<string>("--data") { Description = "Folder for keys, receipts and logs", DefaultValueFactory = _ => "devnet-data" };
        var demo = new Option<bool>("--demo") { Description = "Run a short workload, print a summary and stop" };
        var workCost = new Option<long?>("--work-cost") { Description = "C, the cost of the honest work a cheater saves per request, for the gateway's safety check (default: the gateway's)" };
        var demoRequests = new Option<int>("--requests") { Description = "Chat completions the demo sends (1 to 100000)", DefaultValueFactory = _ => 24 };
        var threads = new Option<int?>("--threads") { Description = "Compute threads per provider (default: cores / providers, at least 1)" };
        var cheaters = new Option<int>("--cheaters") { Description = "How many of the providers (the last ones) cheat, to watch Proof of Sampling catch them", DefaultValueFactory = _ => 0 };
        var strategy = new Option<string>("--strategy") { Description = CheatingStrategy.Help, DefaultValueFactory = _ => "wrong-seed" };
        var challengeRate = new Option<string?>("--challenge-rate") { Description = "The gateway's challenge rate p (default: 0.2 with --cheaters, else 0: off)" };
        var command = new Command("devnet", "Start a gateway and several providers on this machine and serve the OpenAI-compatible API")
        {
            providers, model, tokenizer, template, port, apiKey, data, demo, demoRequests, workCost, threads, cheaters, strategy, challengeRate,
        };
        command.SetAction(async (parse, cancel) =>
        {
            int n = parse.GetValue(providers);
            if (n is < 1 or > 64)
            {
                Console.Error.WriteLine($"cairn: error: --providers {n} is out of range (1 to 64)");
                return 2;
            }
            if (parse.GetValue(threads) is int t and (< 1 or > 1024))
            {
                Console.Error.WriteLine($"cairn: error: --threads {t} is out of range (1 to 1024)");
                return 2;
            }
            if (parse.GetValue(cheaters) is int c and (< 0 or > 64) || parse.GetValue(cheaters) > n)
            {
                Console.Error.WriteLine($"cairn: error: --cheaters {parse.GetValue(cheaters)} is out of range (0 to --providers {n})");
                return 2;
            }
            if (CheatingStrategy.Find(parse.GetValue(strategy)!) is null)
            {
                Console.Error.WriteLine($"cairn: error: --strategy '{parse.GetValue(strategy)}' is not one of {CheatingStrategy.Names}");
                return 2;
            }
            if (parse.GetValue(strategy) == "colluding-pair" && parse.GetValue(cheaters) < 2)
            {
                Console.Error.WriteLine("cairn: error: --strategy colluding-pair needs --cheaters 2 or more (the cheaters collude with one another)");
                return 2;
            }
            if (parse.GetValue(demoRequests) is < 1 or > 100_000)
            {
                Console.Error.WriteLine($"cairn: error: --requests {parse.GetValue(demoRequests)} is out of range (1 to 100000)");
                return 2;
            }
            if (parse.GetValue(workCost) is < 0)
            {
                Console.Error.WriteLine("cairn: error: --work-cost is negative");
                return 2;
            }
            if (parse.GetValue(apiKey) is { Length: < 8 })
            {
                Console.Error.WriteLine("cairn: error: an API key needs at least 8 characters");
                return 2;
            }
            var options = new DevnetOptions
            {
                Providers = n,
                Model = parse.GetValue(model),
                Tokenizer = parse.GetValue(tokenizer),
                ChatTemplate = parse.GetValue(template),
                Port = GatewayCommand.CheckPort(parse.GetValue(port), "--port"),
                ApiKey = parse.GetValue(apiKey),
                DataDirectory = parse.GetValue(data)!,
                Demo = parse.GetValue(demo),
                WorkCost = parse.GetValue(workCost),
                DemoRequests = parse.GetValue(demoRequests),
                ThreadsPerProvider = parse.GetValue(threads),
                Cheaters = parse.GetValue(cheaters),
                Strategy = parse.GetValue(strategy)!,
                ChallengeRate = parse.GetValue(challengeRate),
            };
            try
            {
                return await new DevnetRunner(options, Console.Out).Run(cancel);
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or FileNotFoundException or IOException or HttpRequestException or ArgumentException)
            {
                Console.Error.WriteLine($"cairn: error: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
