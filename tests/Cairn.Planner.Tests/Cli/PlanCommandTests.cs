using System.Text.Json;

namespace Cairn.Planner.Tests.Cli;

public sealed class PlanCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-plan-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    /// <summary>tiny-Q8_0: 4 layers of 837,632 bytes plus 128 KiB of KV cache each at its context of 128.</summary>
    private string Devices(string? extra = null)
    {
        string path = Path.Combine(_dir, "devices.json");
        File.WriteAllText(path, """
            { "devices": [
              { "id": "phone", "memoryBytes": 600000, "decodeBytesPerSecond": 2e8, "prefillFlopsPerSecond": 1e9, "linkLatencySeconds": 0.004, "linkBandwidthBytesPerSecond": 5e6 },
              { "id": "laptop", "memoryBytes": 4000000, "decodeBytesPerSecond": 2e9, "prefillFlopsPerSecond": 2e10, "linkLatencySeconds": 0.001, "linkBandwidthBytesPerSecond": 1e8 },
              { "id": "pi", "memoryBytes": 1500000, "decodeBytesPerSecond": 1e8, "prefillFlopsPerSecond": 5e8, "linkLatencySeconds": 0.002, "linkBandwidthBytesPerSecond": 1e7 }
            """ + (extra ?? "") + "] }");
        return path;
    }

    [Fact]
    public void Plan_prints_the_stages_the_predictions_the_verdicts_and_the_baselines()
    {
        var r = CairnProcess.Run(null, "plan", "--model", ReferenceData.Model("tiny-Q8_0.gguf"), "--devices", Devices(), "--solver", "both");
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Contains("plan (dp, objective latency): 2 stage(s)", r.StdOut);
        Assert.Contains("phone: left out: does not fit", r.StdOut);
        Assert.Contains("laptop: used: layers 1..3", r.StdOut);
        Assert.Contains("pi: used: layers 0..0", r.StdOut);
        Assert.Contains("cross-check: integer program agrees", r.StdOut);
        Assert.Contains("even split: phone 0..1, laptop 2..2, pi 3..3", r.StdOut);
        Assert.Contains("does not fit: device 'phone' needs", r.StdOut);
        Assert.Contains("memory-proportional split (exo): laptop 0..2, pi 3..3", r.StdOut);
    }

    [Fact]
    public void Plan_json_carries_the_plan_for_machines()
    {
        var r = CairnProcess.Run(null, "plan", "-m", ReferenceData.Model("tiny-Q8_0.gguf"), "-d", Devices(), "--objective", "throughput", "--context", "16", "--json");
        Assert.True(r.ExitCode == 0, r.StdErr);
        using var doc = JsonDocument.Parse(r.StdOut);
        var plan = doc.RootElement.GetProperty("plan");
        Assert.Equal("throughput", doc.RootElement.GetProperty("objective").GetString());
        Assert.Equal(16, doc.RootElement.GetProperty("contextLength").GetInt32());
        var stages = plan.GetProperty("stages");
        Assert.Equal(1, stages.GetArrayLength());
        Assert.Equal("laptop", stages[0].GetProperty("device").GetString());
        Assert.Equal(4, stages[0].GetProperty("endLayer").GetInt32());
        Assert.True(plan.GetProperty("throughputTokensPerSecond").GetDouble() > 0);
        Assert.StartsWith("would slow the pipeline", plan.GetProperty("devices")[2].GetProperty("reason").GetString());
        Assert.Equal(2, doc.RootElement.GetProperty("baselines").GetArrayLength());
    }

    [Fact]
    public void The_integer_program_takes_a_last_stage_device()
    {
        var r = CairnProcess.Run(null, "plan", "-m", ReferenceData.Model("tiny-Q8_0.gguf"), "-d", Devices(), "--solver", "ip", "--last-stage", "laptop", "--json");
        Assert.True(r.ExitCode == 0, r.StdErr);
        using var doc = JsonDocument.Parse(r.StdOut);
        var stages = doc.RootElement.GetProperty("plan").GetProperty("stages");
        Assert.Equal("laptop", stages[stages.GetArrayLength() - 1].GetProperty("device").GetString());
    }

    [Theory]
    [InlineData("no such model file", "--model", "/nonexistent.gguf")]
    [InlineData("no such devices file", "--devices", "/nonexistent.json")]
    [InlineData("--context 0 must be positive", "--context", "0")]
    [InlineData("need --solver ip", "--last-stage", "pi")]
    [InlineData("no device 'tv'", "--solver", "ip", "--last-stage", "tv")]
    [InlineData("must be two device ids", "--solver", "ip", "--not-adjacent", "pi")]
    [InlineData("no plan fits", "--context", "100000")]
    public void Bad_input_gives_one_clear_error_and_exit_code_2(string message, params string[] args)
    {
        var all = new List<string> { "plan", "--model", ReferenceData.Model("tiny-Q8_0.gguf"), "--devices", Devices() };
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            int at = all.IndexOf(args[i]);
            if (at >= 0) all[at + 1] = args[i + 1];
            else all.AddRange([args[i], args[i + 1]]);
        }
        if (args.Length % 2 == 1) all.Add(args[^1]);
        var r = CairnProcess.Run(null, [.. all]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.StdErr);
        Assert.DoesNotContain("   at ", r.StdErr);
    }

    [Fact]
    public void A_malformed_devices_file_names_the_device_and_field()
    {
        string devices = Devices(""", { "id": "pi", "memoryBytes": 1, "decodeBytesPerSecond": 1, "prefillFlopsPerSecond": 1, "linkLatencySeconds": 0, "linkBandwidthBytesPerSecond": 1 }""");
        var r = CairnProcess.Run(null, "plan", "--model", ReferenceData.Model("tiny-Q8_0.gguf"), "--devices", devices);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("devices[3]: duplicate id 'pi'", r.StdErr);
    }

    [Fact]
    public void Help_describes_the_options()
    {
        var r = CairnProcess.Run(null, "plan", "--help");
        Assert.Equal(0, r.ExitCode);
        foreach (string option in new[] { "--model", "--devices", "--objective", "--context", "--solver", "--json", "--last-stage", "--not-adjacent" })
            Assert.Contains(option, r.StdOut);
    }
}
