using System.Net;
using System.Net.Sockets;
using Cairn.Node.Tests.TestSupport;

namespace Cairn.Node.Tests.Cli;

/// <summary><c>cairn gateway</c> and <c>cairn node</c> refuse bad arguments with one clear line and exit code 2.</summary>
public sealed class NetworkCommandLineTests
{
    public static TheoryData<string[], string> BadArguments => new()
    {
        { ["gateway", "--port", "70000"], "--port 70000 is out of range" },
        { ["gateway", "--grpc-port", "-1"], "--grpc-port -1 is out of range" },
        { ["gateway", "--port", "0", "--api-key", "short"], "an API key needs at least 8 characters" },
        { ["node", "--gateway", "not-a-url", "--model", "x.gguf"], "--gateway 'not-a-url' is not an http(s) URL" },
        { ["node", "--gateway", "ftp://127.0.0.1:1", "--model", "x.gguf"], "is not an http(s) URL" },
        { ["node", "--gateway", "http://127.0.0.1:1", "--model", "/nonexistent/model.gguf"], "no such model file" },
        { ["node", "--gateway", "http://127.0.0.1:1", "--model", "MODEL", "--threads", "0"], "--threads 0 is out of range" },
        { ["node", "--gateway", "http://127.0.0.1:1", "--model", "MODEL", "--port", "65536"], "--port 65536 is out of range" },
        { ["node", "--gateway", "http://127.0.0.1:1", "--model", "MODEL", "--fault", "explode"], "--fault 'explode' is not one of" },
        { ["node", "--gateway", "http://127.0.0.1:1", "--model", "MODEL", "--fault", "stall-after-tokens:0"], "is not one of" },
        { ["gateway", "--port", "0", "--challenge-rate", "often"], "--challenge-rate" },
        { ["gateway", "--port", "0", "--challenge-rate", "0.1", "--slash", "2000000"], "below the slash" },
        { ["devnet", "--providers", "2", "--cheaters", "3"], "--cheaters 3 is out of range" },
        { ["devnet", "--demo", "--requests", "0"], "--requests 0 is out of range" },
        { ["devnet", "--work-cost", "-5"], "--work-cost is negative" },
        { ["devnet", "--providers", "2", "--cheaters", "1", "--strategy", "lie"], "--strategy 'lie' is not one of" },
        { ["devnet", "--providers", "3", "--cheaters", "1", "--strategy", "colluding-pair"], "--strategy colluding-pair needs --cheaters 2 or more" },
        { ["node", "--gateway", "http://127.0.0.1:1", "--model", "MODEL", "--fault", "collude:/tmp/cartel"], "needs a token-level cheat" },
        { ["node", "--gateway", "http://127.0.0.1:1", "--model", "MODEL", "--fault", "cheaper-type:F32"], "is not one of" },
        { ["node", "--gateway", "http://127.0.0.1:1", "--model", "MODEL", "--fault", "skip-layers:7"], "layer 7 is outside 0 to 3" },
        { ["node", "--gateway", "http://127.0.0.1:1", "--model", "MODEL", "--fault", "substitute-model:/nonexistent/small.gguf"], "no such model file" },
    };

    [Theory]
    [MemberData(nameof(BadArguments))]
    public async Task A_bad_argument_exits_with_code_2_and_says_what_is_wrong(string[] args, string message)
    {
        var r = await CairnCli.RunAsync(args.Select(a => a == "MODEL" ? Devnet.ModelPath : a).ToArray());

        Assert.True(r.ExitCode == 2, $"exit {r.ExitCode}\n{r.StdOut}\n{r.StdErr}");
        Assert.Contains("cairn: error: ", r.StdErr);
        Assert.Contains(message, r.StdErr);
        Assert.DoesNotContain("   at ", r.StdErr);
    }

    [Fact]
    public async Task A_file_that_is_not_a_model_is_refused_with_code_2()
    {
        string path = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(path, "this is plain text and not a model file at all");
            var r = await CairnCli.RunAsync("node", "--gateway", "http://127.0.0.1:1", "--model", path);
            Assert.True(r.ExitCode == 2, $"exit {r.ExitCode}\n{r.StdErr}");
            Assert.Contains("not a GGUF file", r.StdErr);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_gateway_port_in_use_is_refused_with_code_2()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var r = await CairnCli.RunAsync("gateway", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--api-key", Devnet.ApiKey,
            "--data", Path.Combine(Path.GetTempPath(), "cairn-port-test-" + Guid.NewGuid().ToString("N")));

        Assert.True(r.ExitCode == 2, $"exit {r.ExitCode}\n{r.StdOut}\n{r.StdErr}");
        Assert.Contains("cairn: error:", r.StdErr);
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), r.StdErr);
    }

    [Theory]
    [InlineData("node", "--model", "x.gguf")]
    [InlineData("gateway", "--port", "eighty")]
    public async Task A_malformed_command_line_is_refused_with_a_message(params string[] args)
    {
        // System.CommandLine's own parse errors (a missing required option, a value of the wrong type) exit with 2 like ours.
        var r = await CairnCli.RunAsync(args);
        Assert.Equal(2, r.ExitCode);
        Assert.Matches("required|Cannot parse", r.StdErr);
    }
}
