using System.Text.Json;
using Cairn.Engine.Generation;
using Cairn.Engine.Inference;
using Cairn.Engine.Models;
using Cairn.Engine.Sampling;
using Cairn.Engine.Tensors;
using Cairn.Node.Tests.TestSupport;
using Cairn.Protocol.Messages;
using Xunit.Abstractions;

namespace Cairn.Node.Tests.Gateway;

/// <summary>
/// Pipeline inference (issue 8, DESIGN.md §6) with real processes: a model whose weights exceed every provider's
/// <c>--memory</c> budget is served by stage providers (<c>--layers A:B</c>) through the gateway's OpenAI API, and its
/// tokens and output commitment equal a single-process run; a stage killed mid-generation is replaced and the answer
/// completes identical to the undisturbed run.
/// </summary>
public sealed class PipelineTests(ITestOutputHelper output)
{
    private const string Memory = "4MB";

    private static readonly Lazy<string> ModelFile = new(() =>
    {
        string path = Path.Combine(Path.GetTempPath(), $"cairn-pipeline-{Guid.NewGuid():N}"[..24] + ".gguf");
        SyntheticModel.Write(path, new SyntheticModelSpec { WeightType = GgmlType.Q8_0, Dim = 256, HiddenDim = 768, Layers = 8, ContextLength = 256, Seed = 8 });
        return path;
    });

    private static string ModelName => Path.GetFileNameWithoutExtension(ModelFile.Value);

    [Fact]
    public async Task A_model_larger_than_every_budget_is_served_by_stages_bit_identical_to_one_process()
    {
        await using var net = await Devnet.StartAsync(providers: 0);
        // The whole model does not fit the budget: such a provider refuses to start, with the reason.
        var whole = await CairnCli.RunAsync("node", "--gateway", net.Grpc, "--model", ModelFile.Value, "--memory", Memory);
        Assert.NotEqual(0, whole.ExitCode);
        Assert.Contains("more than the memory budget", whole.StdErr + whole.StdOut, StringComparison.Ordinal);

        foreach (string layers in new[] { "0:3", "3:5", "5:8" })
            await net.AddNodeAsync(ModelFile.Value, ["--layers", layers, "--memory", Memory]);
        foreach (var (temperature, seed) in new[] { (0f, 1UL), (0.8f, 1234UL) })
        {
            var (text, id) = await Complete(net, temperature, seed, stream: false);
            await AssertSingleProcess(net, id, text);
        }
        await net.Gateway.WaitForLine(l => l.Contains("pipeline 0x", StringComparison.Ordinal), TimeSpan.FromSeconds(30)); // the logger's thread may lag

        // The dashboard's plan shows the chain that served, each stage with its measured step time, and /metrics has them.
        using var plan = System.Text.Json.JsonDocument.Parse(await net.Http.GetStringAsync("/v1/pipeline"));
        var stages = plan.RootElement.GetProperty("stages").EnumerateArray().ToList();
        Assert.Equal([(0, 2), (3, 4), (5, 7)], stages.Select(s => (s.GetProperty("first_layer").GetInt32(), s.GetProperty("last_layer").GetInt32())));
        Assert.All(stages, s => Assert.True(s.GetProperty("step_seconds").GetDouble() > 0));
        Assert.Equal(net.Providers.Select(p => p.Id).Order(), stages.Select(s => s.GetProperty("device").GetString()!).Order());
        string metrics = await net.Http.GetStringAsync("/metrics");
        Assert.Contains($"cairn_stage_step_seconds_count{{stage=\"{ModelName}[3:5)\"}}", metrics, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(0.8f)]
    public async Task A_stage_killed_mid_generation_is_replaced_and_the_answer_equals_the_undisturbed_run(float temperature)
    {
        await using var net = await Devnet.StartAsync(providers: 0);
        await net.AddNodeAsync(ModelFile.Value, ["--layers", "0:3", "--memory", Memory]);
        // Two providers serve the middle range, slowed down a lot so that the kill lands mid-generation even on a quiet
        // machine (each step of theirs then takes tens of milliseconds; the answer has 48 tokens).
        var middle = await Task.WhenAll(
            net.AddNodeAsync(ModelFile.Value, ["--layers", "3:5", "--memory", Memory, "--slowdown", "40"]),
            net.AddNodeAsync(ModelFile.Value, ["--layers", "3:5", "--memory", Memory, "--slowdown", "40"]));
        await net.AddNodeAsync(ModelFile.Value, ["--layers", "5:8", "--memory", Memory]);

        var answer = Complete(net, temperature, 77, stream: true, firstPiece: async () =>
        {
            string chain = await net.Gateway.WaitForLine(l => l.Contains(": pipeline ", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
            var victim = middle.Single(p => chain.Contains(p.Id + "[3:5)", StringComparison.Ordinal));
            victim.Process.Kill();
        });
        var (text, id) = await answer;
        // The log line is written by the console logger's own thread: wait for it rather than race it.
        await net.Gateway.WaitForLine(l => l.Contains("replaying", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        output.WriteLine(string.Join("\n", net.Gateway.Output.Split('\n').Where(l => l.Contains("pipeline", StringComparison.Ordinal) || l.Contains("replaying", StringComparison.Ordinal))));
        await AssertSingleProcess(net, id, text);
    }

    private static Task<(string Text, string Id)> Complete(Devnet net, float temperature, ulong seed, bool stream, Func<Task>? firstPiece = null) =>
        PipelineAnswers.Complete(net, ModelName, temperature, seed, stream, firstPiece);

    private Task AssertSingleProcess(Devnet net, string id, string text) => PipelineAnswers.AssertSingleProcess(net, ModelFile.Value, id, text, output);
}
