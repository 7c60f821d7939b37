using System.CommandLine;
using System.Security.Cryptography;
using Cairn.Node.Gateway;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn gateway</c>: the OpenAI-compatible front door providers register with.</summary>
internal static class GatewayCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "Port of the OpenAI-compatible API on 127.0.0.1 (0: any free port)", DefaultValueFactory = _ => 8080 };
        var grpcPort = new Option<int>("--grpc-port") { Description = "Port providers register on (0: any free port)", DefaultValueFactory = _ => 0 };
        var apiKeys = new Option<string[]>("--api-key") { Description = "API key clients must send (repeatable; default: a fresh random key, printed)", AllowMultipleArgumentsPerToken = false };
        var data = new Option<string>("--data") { Description = "Folder for receipts and state", DefaultValueFactory = _ => "gateway-data" };
        var key = new Option<string?>("--key") { Description = "Encrypted key file of the gateway's identity (default: an ephemeral key)" };
        var passphraseEnv = new Option<string?>("--passphrase-env") { Description = "Environment variable holding the key file's passphrase" };
        var postgres = new Option<string?>("--postgres") { Description = "PostgreSQL connection string of a ledger shared by several gateways (default: SQLite in --data)" };
        var credit = new Option<long>("--initial-credit") { Description = "Balance in micro-units each API-key client starts with (a local network's faucet; 0: none)", DefaultValueFactory = _ => 1_000_000_000_000 };
        var stake = new Option<long?>("--genesis-stake") { Description = "Stake bonded for a registering provider that has none (default: the minimum stake; 0: none)" };
        var epoch = new Option<int>("--epoch-seconds") { Description = "Length of a ledger epoch (payouts and the journal's Merkle root at its end)", DefaultValueFactory = _ => 3600 };
        var challengeRate = new Option<string>("--challenge-rate") { Description = "p of Proof of Sampling: chance that a receipt is challenged and re-executed by a validator (0.1 or 10%; default 0: off)", DefaultValueFactory = _ => "0" };
        var validatorReward = new Option<long>("--validator-reward") { Description = "R_V: micro-units paid from the validator pool to a validator whose re-execution matched", DefaultValueFactory = _ => 100 };
        var asserterReward = new Option<long>("--asserter-reward") { Description = "R_A: micro-units paid from the validator pool to the asserter of a challenge every validator reproduced", DefaultValueFactory = _ => 0 };
        var clientDiscount = new Option<long>("--client-discount") { Description = "Micro-units paid back from the validator pool to the client of a challenged request that matched", DefaultValueFactory = _ => 0 };
        var slash = new Option<long?>("--slash") { Description = "S: micro-units of stake taken from an asserter a validator contradicts (default: the minimum stake)" };
        var workCost = new Option<long>("--work-cost") { Description = "C: cost of the honest work a cheater saves per request, in the safety check p(1 − r)(R_A + S) > C", DefaultValueFactory = _ => 10_000 };
        var collusion = new Option<string>("--collusion") { Description = "r: assumed share of colluding stake, in the safety check", DefaultValueFactory = _ => "0" };
        var validators = new Option<int>("--validators") { Description = "n: validators drawn for each challenged receipt; each that disagrees with the asserter is disputed", DefaultValueFactory = _ => 1 };
        var models = new Option<string[]>("--model") { Description = "A GGUF model file the gateway loads to referee disputes on it (repeatable; never served). Without one a disagreement is settled by a tie-breaker re-execution", AllowMultipleArgumentsPerToken = false };
        var adapters = new Option<string[]>("--adapter") { Description = "A LoRA adapter GGUF the referee applies to disputes on requests naming it (repeatable; needs its base model as --model). Without it such a disagreement is settled by a tie-breaker re-execution", AllowMultipleArgumentsPerToken = false };
        var replan = new Option<double>("--replan-threshold") { Description = "Re-plan a pipeline of flexible stages (cairn node --layers auto) between requests when the running plan, costed with measured step times, is worse than a fresh plan by more than this fraction", DefaultValueFactory = _ => 0.2 };
        var objective = new Option<string>("--pipeline-objective") { Description = "What the pipeline planner minimizes: latency (one stream's per-token time) or throughput (the slowest stage)", DefaultValueFactory = _ => "latency" };
        var split = new Option<string>("--pipeline-split") { Description = "How flexible stages split a model: planner (the planner's plan, re-planned from measurements), or a baseline for comparisons: even, exo (memory-proportional)", DefaultValueFactory = _ => "planner" };
        var link = new Option<double>("--link-latency-ms") { Description = "Per-hop link latency the pipeline planner assumes until it has measured one (milliseconds)", DefaultValueFactory = _ => 1 };
        var parent = new Option<int?>("--parent-pid") { Hidden = true };
        var command = new Command("gateway", "Run a gateway: the OpenAI-compatible API, routing and receipts") { port, grpcPort, apiKeys, data, key, passphraseEnv, postgres, credit, stake, epoch, challengeRate, validatorReward, asserterReward, clientDiscount, slash, workCost, collusion, validators, models, adapters, replan, objective, split, link, parent };
        command.SetAction((parse, cancel) => Task.FromResult(CliErrors.Run(() =>
        {
            var keys = parse.GetValue(apiKeys) is { Length: > 0 } given ? given : ["sk-cairn-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))];
            if (keys.Any(k => k.Length < 8)) throw new ArgumentException("an API key needs at least 8 characters");
            if (parse.GetValue(credit) < 0) throw new ArgumentException("--initial-credit is negative");
            if (parse.GetValue(stake) < 0) throw new ArgumentException("--genesis-stake is negative");
            var options = new GatewayOptions
            {
                Port = CheckPort(parse.GetValue(port), "--port"),
                GrpcPort = CheckPort(parse.GetValue(grpcPort), "--grpc-port"),
                ApiKeys = keys.Distinct().ToDictionary(k => k, GatewayOptions.ClientOf),
                Postgres = parse.GetValue(postgres),
                InitialCredit = parse.GetValue(credit),
                GenesisStake = parse.GetValue(stake),
                EpochLength = parse.GetValue(epoch) is int e and >= 1 and <= 86400 * 365 ? TimeSpan.FromSeconds(e) : throw new ArgumentException($"--epoch-seconds {parse.GetValue(epoch)} is out of range (1 to a year)"),
                DataDirectory = Path.GetFullPath(parse.GetValue(data)!),
                ChallengeRate = ParseProbability(parse.GetValue(challengeRate)!, "--challenge-rate"),
                ValidatorReward = parse.GetValue(validatorReward) is >= 0 and var rv ? rv : throw new ArgumentException("--validator-reward is negative"),
                AsserterReward = parse.GetValue(asserterReward) is >= 0 and var ra ? ra : throw new ArgumentException("--asserter-reward is negative"),
                ClientDiscount = parse.GetValue(clientDiscount) is >= 0 and var cd ? cd : throw new ArgumentException("--client-discount is negative"),
                Slash = parse.GetValue(slash) is null or > 0 ? parse.GetValue(slash) : throw new ArgumentException("--slash must be positive"),
                WorkCost = parse.GetValue(workCost) is >= 0 and var c ? c : throw new ArgumentException("--work-cost is negative"),
                Collusion = ParseProbability(parse.GetValue(collusion)!, "--collusion"),
                Validators = parse.GetValue(validators) is >= 1 and <= 16 and var n ? n : throw new ArgumentException($"--validators {parse.GetValue(validators)} is out of range (1 to 16)"),
                RefereeModels = (parse.GetValue(models) ?? []).Select(m => File.Exists(m) ? Path.GetFullPath(m) : throw new ArgumentException($"--model {m}: no such file")).ToArray(),
                RefereeAdapters = (parse.GetValue(adapters) ?? []).Select(a => File.Exists(a) ? Path.GetFullPath(a) : throw new ArgumentException($"--adapter {a}: no such file")).ToArray(),
                RefereeThreads = Math.Max(1, Environment.ProcessorCount / 2),
                ReplanThreshold = parse.GetValue(replan) is >= 0 and <= 100 and var rt ? rt : throw new ArgumentException($"--replan-threshold {parse.GetValue(replan)} is out of range (0 to 100)"),
                PipelineObjective = parse.GetValue(objective) switch
                {
                    "latency" => Cairn.Planner.PlanObjective.MinLatency,
                    "throughput" => Cairn.Planner.PlanObjective.MaxThroughput,
                    var o => throw new ArgumentException($"--pipeline-objective '{o}' is not latency or throughput"),
                },
                PipelineLinkLatency = parse.GetValue(link) is >= 0 and <= 60_000 and var ms ? ms / 1000 : throw new ArgumentException($"--link-latency-ms {parse.GetValue(link)} is out of range (0 to 60000)"),
                PipelineSplit = parse.GetValue(split) switch
                {
                    "planner" => Cairn.Node.Gateway.Pipeline.PipelineSplit.Planner,
                    "even" => Cairn.Node.Gateway.Pipeline.PipelineSplit.Even,
                    "exo" => Cairn.Node.Gateway.Pipeline.PipelineSplit.MemoryProportional,
                    var s => throw new ArgumentException($"--pipeline-split '{s}' is not planner, even or exo"),
                },
            };
            if (options.ChallengeRate.PartsPerMillion > 0)
            {
                // Refuse parameters under which cheating pays (DESIGN.md §4.5), before anything starts.
                var safety = options.Safety(new Cairn.Ledger.Economics.LedgerOptions().MinimumStake);
                var problems = safety.Problems();
                if (problems.Count > 0)
                {
                    foreach (string problem in problems) Console.Error.WriteLine($"cairn: error: unsafe Proof of Sampling parameters: {problem}");
                    Console.Error.WriteLine(safety.SmallestSafeP() is { } smallest
                        ? $"cairn: smallest safe --challenge-rate with these values: {smallest.AsDecimal.ToString(System.Globalization.CultureInfo.InvariantCulture)} ({smallest})"
                        : "cairn: no --challenge-rate up to 1 is safe with these values; raise --slash or --asserter-reward");
                    return 2;
                }
            }
            using var identity = NodeIdentity.Load(parse.GetValue(key), parse.GetValue(passphraseEnv), "gateway");
            var app = options.RefereeModels.Count == 0 ? GatewayNode.Build(options, identity)
                : CliProgress.Run($"loading referee model {string.Join(", ", options.RefereeModels.Select(Path.GetFileName))}", () => GatewayNode.Build(options, identity));
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            NodeIdentity.ExitWithParent(parse.GetValue(parent), stop);
            app.StartAsync(stop.Token).GetAwaiter().GetResult();
            var (api, grpc) = GatewayNode.Addresses(app);
            Console.WriteLine($"gateway: api={api} grpc={grpc} id={identity.Address}");
            if (parse.GetValue(apiKeys) is not { Length: > 0 }) Console.WriteLine($"api key: {keys[0]}");
            Console.Out.Flush();
            try
            {
                Task.Delay(Timeout.Infinite, stop.Token).Wait();
            }
            catch (AggregateException)
            {
            }
            app.StopAsync().GetAwaiter().GetResult();
            return 0;
        })));
        return command;
    }

    private static Cairn.Protocol.Sampling.Probability ParseProbability(string text, string name)
    {
        try
        {
            return Cairn.Protocol.Sampling.Probability.Parse(text);
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"{name}: {e.Message}");
        }
    }

    internal static int CheckPort(int port, string name) =>
        port is >= 0 and <= 65535 ? port : throw new ArgumentException($"{name} {port} is out of range (0 to 65535)");
}
