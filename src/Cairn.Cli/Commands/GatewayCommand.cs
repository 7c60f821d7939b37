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
        var parent = new Option<int?>("--parent-pid") { Hidden = true };
        var command = new Command("gateway", "Run a gateway: the OpenAI-compatible API, routing and receipts") { port, grpcPort, apiKeys, data, key, passphraseEnv, postgres, credit, stake, epoch, parent };
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
            };
            using var identity = NodeIdentity.Load(parse.GetValue(key), parse.GetValue(passphraseEnv), "gateway");
            var app = GatewayNode.Build(options, identity);
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

    internal static int CheckPort(int port, string name) =>
        port is >= 0 and <= 65535 ? port : throw new ArgumentException($"{name} {port} is out of range (0 to 65535)");
}
