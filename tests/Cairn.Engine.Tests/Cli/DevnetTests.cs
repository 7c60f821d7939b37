using System.Diagnostics;
using Cairn.Engine.Tests.TestSupport;

namespace Cairn.Engine.Tests.Cli;

/// <summary><c>cairn devnet</c> as a newcomer runs it: real gateway and provider processes on loopback.</summary>
public sealed class DevnetTests
{
    [Fact]
    public void Demo_serves_every_request_across_all_providers_keeps_the_evidence_and_stops()
    {
        string data = Directory.CreateTempSubdirectory("cairn-devnet-").FullName;
        var r = CairnProcess.Run(null, "devnet", "--providers", "2", "--model", ReferenceData.Model("aidreams260K.gguf"), "--port", "0",
            "--data", data, "--demo", "--api-key", "test-key-123");
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        Assert.Matches(@"ready: http://127\.0\.0\.1:\d+/v1", r.StdOut);
        Assert.Contains("api key: test-key-123", r.StdOut);
        Assert.Contains("24 ok, 0 failed", r.StdOut);
        Assert.Equal(2, r.StdOut.Split('\n').Count(l => l.TrimStart().StartsWith("0x", StringComparison.Ordinal) && l.Contains("requests")));
        Assert.Contains("stopped", r.StdOut);
        Assert.Equal(24, File.ReadAllLines(Path.Combine(data, "gateway", "receipts.jsonl")).Length);
        Assert.True(File.Exists(Path.Combine(data, "keys", "gateway.json")));
        Assert.True(File.Exists(Path.Combine(data, "keys", "provider-2.json")));
        Assert.DoesNotContain(File.ReadAllText(Path.Combine(data, "keys", "gateway.json")), "private", StringComparison.OrdinalIgnoreCase);
        Assert.Empty(ProcessesUsing(data));

        // Every answered request ended in exactly one settlement, and the journal checks out from scratch.
        var verify = CairnProcess.Run(null, "ledger", "verify", "--data", data);
        Assert.True(verify.ExitCode == 0, verify.StdOut + verify.StdErr);
        Assert.Contains("53 entries", verify.StdOut); // 1 client credit, 2 × (deposit + bond) of stake, 24 holds, 24 settlements
        string client = Node.Gateway.GatewayOptions.ClientOf("test-key-123").ToString();
        var statement = CairnProcess.Run(null, "ledger", "statement", "client:" + client, "--data", data, "--epoch", "0");
        Assert.True(statement.ExitCode == 0, statement.StdOut + statement.StdErr);
        Assert.Equal(24, statement.StdOut.Split('\n').Count(l => l.Contains(" Hold ", StringComparison.Ordinal)));
        var treasury = CairnProcess.Run(null, "ledger", "statement", "treasury", "--data", data, "--epoch", "0");
        Assert.Equal(24, treasury.StdOut.Split('\n').Count(l => l.Contains(" Settle ", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("smaller-model")]
    [InlineData("skipped-layers")]
    public void A_cheating_strategy_is_caught_in_the_demo(string strategy)
    {
        string data = Directory.CreateTempSubdirectory("cairn-devnet-").FullName;
        var r = CairnProcess.Run(null, "devnet", "--providers", "3", "--cheaters", "1", "--strategy", strategy, "--challenge-rate", "1",
            "--model", ReferenceData.Model("aidreams260K.gguf"), "--port", "0", "--data", data, "--demo", "--api-key", "test-key-123");
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        Assert.Contains(r.StdOut.Split('\n'), l => l.Contains($"[cheater: {strategy}]", StringComparison.Ordinal) && l.Contains("caught", StringComparison.Ordinal));
        Assert.DoesNotContain(r.StdOut.Split('\n'), l => l.Contains("caught", StringComparison.Ordinal) && !l.Contains("[cheater:", StringComparison.Ordinal));
        if (strategy == "smaller-model") Assert.True(File.Exists(Path.Combine(data, "smaller-aidreams260K.gguf")));
    }

    [Fact]
    public async Task Sigterm_stops_the_gateway_and_every_provider()
    {
        string data = Directory.CreateTempSubdirectory("cairn-devnet-").FullName;
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { "exec", CairnProcess.CliPath, "devnet", "--providers", "2", "--port", "0", "--data", data }) psi.ArgumentList.Add(a);
        using var devnet = Process.Start(psi)!;
        var ready = new TaskCompletionSource();
        devnet.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.StartsWith("press Ctrl+C", StringComparison.Ordinal) == true) ready.TrySetResult();
        };
        devnet.BeginOutputReadLine();
        devnet.BeginErrorReadLine();
        try
        {
            await ready.Task.WaitAsync(TimeSpan.FromMinutes(2));
            Assert.Equal(3, ProcessesUsing(data).Count); // the gateway and two providers
            Assert.Equal(0, Kill(devnet.Id, 15));
            await devnet.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Empty(ProcessesUsing(data));
        }
        finally
        {
            if (!devnet.HasExited) devnet.Kill(entireProcessTree: true);
            foreach (int pid in ProcessesUsing(data)) Process.GetProcessById(pid).Kill();
        }
    }

    /// <summary>Processes whose command line names <paramref name="data"/> (the devnet's children pass it in their arguments).</summary>
    private static List<int> ProcessesUsing(string data)
    {
        var result = new List<int>();
        foreach (string dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid) || pid == Environment.ProcessId) continue;
            try
            {
                string cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains(data, StringComparison.Ordinal) && !cmdline.Contains(" devnet ", StringComparison.Ordinal)) result.Add(pid);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return result;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}
