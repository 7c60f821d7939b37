using System.CommandLine;
using System.Globalization;
using Cairn.Cli.Bench;

namespace Cairn.Cli.Commands;

/// <summary>
/// <c>cairn pipeline bench</c>: the measured comparison of issue 8 (docs/pipeline.md, "Measured: planned against
/// baselines"): emulated devices as real child processes on 127.0.0.1, the planner's split against an even and exo's
/// memory-proportional split, then a run-time slowdown and the gateway's re-plan.
/// </summary>
internal static class PipelineCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "GGUF model to serve in stages", Required = true };
        var devices = new Option<string>("--devices", "-d")
        {
            Description = "Emulated devices, ID:MEMORY:SLOWDOWN comma-separated, e.g. A:5MB:4,B:5MB:10,C:10MB:30,D:10MB:60 (each a flexible stage: cairn node --layers auto --memory MEMORY --slowdown SLOWDOWN)",
            Required = true,
        };
        var tokens = new Option<int>("--tokens") { Description = "Decode steps per latency measurement (the difference between a request of 8 tokens and one of 8 + this)", DefaultValueFactory = _ => 48 };
        var repeats = new Option<int>("--repeats") { Description = "Latency measurements per split; the median is shown", DefaultValueFactory = _ => 3 };
        var concurrent = new Option<int>("--concurrent") { Description = "Requests at once for the throughput figure", DefaultValueFactory = _ => 4 };
        var slowTo = new Option<double>("--slow-to") { Description = "Rebalancing run: the slowdown set at run time on the device holding the most layers of the plan", DefaultValueFactory = _ => 200 };
        var data = new Option<string?>("--data") { Description = "Folder for the child processes' logs and ledgers (default: a fresh temporary folder)" };
        var bench = new Command("bench", "Measure the planner's split against an even and a memory-proportional (exo) split, and re-planning after a run-time slowdown, with real child processes on 127.0.0.1")
        {
            model, devices, tokens, repeats, concurrent, slowTo, data,
        };
        bench.SetAction((parse, cancel) => Task.FromResult(CliErrors.Run(() =>
        {
            var options = new PipelineBenchOptions
            {
                Model = File.Exists(parse.GetValue(model)) ? Path.GetFullPath(parse.GetValue(model)!) : throw new ArgumentException($"--model {parse.GetValue(model)}: no such file"),
                Devices = PipelineBenchOptions.ParseDevices(parse.GetValue(devices)!),
                Tokens = parse.GetValue(tokens) is >= 4 and <= 4096 and var t ? t : throw new ArgumentException($"--tokens {parse.GetValue(tokens)} is out of range (4 to 4096)"),
                Repeats = parse.GetValue(repeats) is >= 1 and <= 20 and var r ? r : throw new ArgumentException($"--repeats {parse.GetValue(repeats)} is out of range (1 to 20)"),
                Concurrent = parse.GetValue(concurrent) is >= 1 and <= 64 and var c ? c : throw new ArgumentException($"--concurrent {parse.GetValue(concurrent)} is out of range (1 to 64)"),
                SlowTo = parse.GetValue(slowTo) is >= 1 and <= 1000 and var s ? s : throw new ArgumentException($"--slow-to {parse.GetValue(slowTo).ToString(CultureInfo.InvariantCulture)} is out of range (1 to 1000)"),
                DataDirectory = Path.GetFullPath(parse.GetValue(data) ?? Path.Combine(Path.GetTempPath(), $"cairn-pipeline-bench-{Environment.ProcessId}")),
            };
            return new PipelineBench(options, Console.Out).Run(cancel).GetAwaiter().GetResult();
        })));
        return new Command("pipeline", "Pipeline inference across emulated devices") { bench };
    }
}
