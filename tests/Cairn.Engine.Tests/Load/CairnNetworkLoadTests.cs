using System.Diagnostics;
using System.Text.RegularExpressions;
using Cairn.Cli.Load;
using Cairn.Engine.Tests.TestSupport;
using Xunit.Abstractions;

namespace Cairn.Engine.Tests.Load;

/// <summary>A real network (a gateway and two providers as child processes on loopback) under a short load.</summary>
public sealed class CairnNetworkLoadTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Eight_streaming_clients_for_ten_seconds_get_every_answer()
    {
        string model = ReferenceData.Model("aidreams260K.gguf");
        await using var network = await LocalNetwork.StartAsync(model, providers: 2, threads: 1);
        var report = await LoadGenerator.RunAsync(new LoadOptions
        {
            BaseUrl = new Uri(network.ApiUrl),
            ApiKey = LocalNetwork.ApiKey,
            Model = "aidreams260K",
            Clients = 8,
            Duration = TimeSpan.FromSeconds(10),
            MaxTokens = 32,
            Temperature = 0.7,
            RequestTimeout = TimeSpan.FromSeconds(60),
            ReceiptLookups = int.MaxValue,
        });
        output.WriteLine(report.Format());
        Assert.False(report.Interrupted);
        Assert.True(report.Requests > 0, "no request finished");
        Assert.Equal(0, report.Failed);
        Assert.True(report.Tokens > 0);
        Assert.NotNull(report.Providers);
        Assert.Equal(report.Requests, report.Providers!.Sampled);
        Assert.Equal(0, report.Providers.LookupsFailed);
        Assert.Equal(report.Requests, report.Providers.Providers.Sum(p => p.Answers));
        Assert.All(report.Providers.Providers, p => Assert.Contains(p.Provider, network.ProviderIds));
    }

    /// <summary>A gateway and N providers started with the real <c>cairn</c> CLI; killed on dispose.</summary>
    private sealed class LocalNetwork : IAsyncDisposable
    {
        public const string ApiKey = "k-load-test-12345678";
        private readonly List<Process> _processes = [];
        private readonly string _data = Directory.CreateTempSubdirectory("cairn-load-").FullName;

        public string ApiUrl { get; private set; } = "";
        public List<string> ProviderIds { get; } = [];

        public static async Task<LocalNetwork> StartAsync(string model, int providers, int threads)
        {
            var net = new LocalNetwork();
            try
            {
                var gateway = net.Start("gateway", "--port", "0", "--api-key", ApiKey, "--data", Path.Combine(net._data, "gateway"));
                var m = Regex.Match(await WaitForLine(gateway, "gateway: api="), @"api=(\S+) grpc=(\S+)");
                net.ApiUrl = m.Groups[1].Value + "/v1";
                var nodes = Enumerable.Range(0, providers)
                    .Select(_ => net.Start("node", "--gateway", m.Groups[2].Value, "--model", model, "--threads", threads.ToString())).ToList();
                foreach (var node in nodes)
                {
                    net.ProviderIds.Add(Regex.Match(await WaitForLine(node, "provider: id="), @"id=(\S+)").Groups[1].Value);
                    await WaitForLine(node, "ready:");
                }
                return net;
            }
            catch
            {
                await net.DisposeAsync();
                throw;
            }
        }

        private Process Start(params string[] args)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add("exec");
            psi.ArgumentList.Add(CairnProcess.CliPath);
            foreach (string a in args) psi.ArgumentList.Add(a);
            psi.ArgumentList.Add("--parent-pid");
            psi.ArgumentList.Add(Environment.ProcessId.ToString());
            var p = Process.Start(psi)!;
            _processes.Add(p);
            // Standard error and the gateway's per-request log lines must be drained, or the child blocks on a full pipe.
            p.ErrorDataReceived += (_, _) => { };
            p.BeginErrorReadLine();
            return p;
        }

        /// <summary>Reads standard output until a line starts with <paramref name="prefix"/>, then keeps draining it.</summary>
        private static async Task<string> WaitForLine(Process p, string prefix)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            while (true)
            {
                string? line = await p.StandardOutput.ReadLineAsync(timeout.Token);
                if (line is null) throw new InvalidOperationException($"the process exited (code {(p.HasExited ? p.ExitCode : -1)}) before printing '{prefix}'");
                if (line.StartsWith(prefix, StringComparison.Ordinal))
                {
                    if (prefix == "ready:" || prefix == "gateway: api=") Drain(p);
                    return line;
                }
            }
        }

        private static void Drain(Process p) => _ = Task.Run(async () =>
        {
            try
            {
                while (await p.StandardOutput.ReadLineAsync() != null)
                {
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
            {
            }
        });

        public async ValueTask DisposeAsync()
        {
            foreach (var p in _processes)
            {
                try
                {
                    if (!p.HasExited) p.Kill(entireProcessTree: true);
                    await p.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
                }
                catch (Exception e) when (e is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
                {
                }
                p.Dispose();
            }
            try
            {
                Directory.Delete(_data, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
