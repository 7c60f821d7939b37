using System.CommandLine;
using System.Diagnostics;
using Cairn.Cli.Bench;

namespace Cairn.Cli.Commands;

/// <summary>
/// <c>cairn bench</c>: prefill and decode speed of a model in the spirit of llama-bench (median and spread over
/// repeats, peak memory, weight type, threads, CPU features). Progress goes to standard error; standard output holds
/// only the table, or with <c>--json</c> one JSON object.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "GGUF file, or synthetic:SHAPE:TYPE (shapes tiny, 110m, 1.1b; types F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K, Q4_K_M), written once to ~/.cache/cairn/models", Required = true };
        var threads = new Option<int>("--threads", "-t") { Description = "Compute threads", DefaultValueFactory = _ => Math.Min(Environment.ProcessorCount, 1024) };
        var promptTokens = new Option<int>("--prompt-tokens", "-p") { Description = "Tokens of the prefill test (0: skip it)", DefaultValueFactory = _ => 64 };
        var genTokens = new Option<int>("--gen-tokens", "-n") { Description = "Tokens of the decode test (0: skip it)", DefaultValueFactory = _ => 64 };
        var repeats = new Option<int>("--repeats", "-r") { Description = "Timed runs of each test", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of the table" };
        var bandwidth = new Option<bool>("--bandwidth") { Description = "Also measure the memory read bandwidth on the same threads and report the decode limit it sets (bandwidth / weight bytes per token) and how close decode gets" };
        var command = new Command("bench", "Measure prefill and decode speed of a model (like llama-bench)")
        {
            model, threads, promptTokens, genTokens, repeats, json, bandwidth,
        };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var o = new BenchOptions(parse.GetValue(model)!, parse.GetValue(threads), parse.GetValue(promptTokens), parse.GetValue(genTokens), parse.GetValue(repeats), parse.GetValue(bandwidth));
            string? error = (o.Threads is < 1 or > 1024 ? $"--threads {o.Threads} is out of range (1 to 1024)" : null)
                ?? (o.PromptTokens is < 0 or > 4096 ? $"--prompt-tokens {o.PromptTokens} is out of range (0 to 4096)" : null)
                ?? (o.GenTokens is < 0 or > 4096 ? $"--gen-tokens {o.GenTokens} is out of range (0 to 4096)" : null)
                ?? (o.PromptTokens == 0 && o.GenTokens == 0 ? "--prompt-tokens and --gen-tokens are both 0: nothing to measure" : null)
                ?? (o.Repeats is < 1 or > 1000 ? $"--repeats {o.Repeats} is out of range (1 to 1000)" : null);
            if (error != null) throw new ArgumentException(error);
            if (BenchModels.IsSynthetic(o.Model) && !File.Exists(BenchModels.CachedPath(o.Model))) // bad shapes and types fail here, before anything is written
            {
                // Generating the weights takes memory (and leaves garbage) that the benchmark must not be charged with:
                // write the model here, then measure in a fresh process of the same command line.
                BenchModels.Ensure(o.Model, Console.Error);
                return RunAgain();
            }

            var report = BenchRunner.Run(o, Console.Error);
            Console.Out.WriteLine(parse.GetValue(json) ? report.ToJson() : report.ToTable());
            return 0;
        }));
        return command;
    }

    private static int RunAgain()
    {
        string[] args = Environment.GetCommandLineArgs();
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("the path of this process is unknown; run the command again");
        // Under `dotnet cairn.dll` the first argument is the assembly, which the host needs again; under the apphost it is not.
        bool viaDotnet = Path.GetFileNameWithoutExtension(host) == "dotnet";
        var psi = new ProcessStartInfo(host) { UseShellExecute = false };
        foreach (string a in viaDotnet ? args : args[1..]) psi.ArgumentList.Add(a);
        using var child = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {host}");
        child.WaitForExit();
        return child.ExitCode;
    }
}
