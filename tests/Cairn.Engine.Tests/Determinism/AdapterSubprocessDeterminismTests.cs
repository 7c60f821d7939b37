using Cairn.Engine.Adapters;
using Cairn.Engine.Tensors;
using Cairn.Engine.Tests.TestSupport;
using Xunit.Abstractions;

namespace Cairn.Engine.Tests.Determinism;

/// <summary>
/// DESIGN.md §3 with adapters: <c>cairn run --adapter A --adapter B</c> in child processes with AVX-512, AVX2 or all
/// intrinsics off and 1/2/3 threads prints the same tokens, logits hash and commitment; and it differs from the base.
/// </summary>
public sealed class AdapterSubprocessDeterminismTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string> Native = new();
    private static readonly Dictionary<string, string> NoAvx512 = new() { ["DOTNET_EnableAVX512F"] = "0", ["DOTNET_EnableAVX512"] = "0" };
    private static readonly Dictionary<string, string> NoAvx2 = new() { ["DOTNET_EnableAVX512F"] = "0", ["DOTNET_EnableAVX512"] = "0", ["DOTNET_EnableAVX2"] = "0" };
    private static readonly Dictionary<string, string> Scalar = new() { ["DOTNET_EnableHWIntrinsic"] = "0" };

    private static readonly (string Name, Dictionary<string, string> Env, int Threads, int Chunk)[] Configurations =
    [
        ("native t2", Native, 2, 0),
        ("no-avx512 t3 chunk7", NoAvx512, 3, 7),
        ("no-avx2 t1", NoAvx2, 1, 0),
        ("scalar t2 chunk1", Scalar, 2, 1),
    ];

    public static TheoryData<GgmlType> Types => new() { GgmlType.F32, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_K };

    private static CairnProcess.Result Run(Dictionary<string, string> env, string model, int threads, int chunk, params string[] adapters)
    {
        string[] args = ["run", "--model", model, "--prompt", "Hello, adapters!", "--max-tokens", "8", "--temperature", "0.9",
            "--top-k", "0", "--min-p", "0", "--seed", "77", "--commitment", "--logits-hash", "--threads", threads.ToString(),
            "--prefill-chunk", chunk.ToString(), .. adapters.SelectMany(a => new[] { "--adapter", a })];
        return CairnProcess.Run(env, args);
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Adapted_generation_is_the_same_on_every_instruction_set_and_thread_count(GgmlType type)
    {
        string model = SyntheticModels.Path(type);
        string a = LoraAdapters.Path(type, "sub-a", new SyntheticLoraSpec { Targets = LoraAdapters.AllTargets, Rank = 4, Magnitude = 0.15f, Seed = 21 });
        string b = LoraAdapters.Path(type, "sub-b", new SyntheticLoraSpec { Targets = [LoraTarget.AttnV], Rank = 2, Type = GgmlType.F16, Seed = 22 });
        var baseRun = Run(Native, model, 2, 0);
        Assert.True(baseRun.ExitCode == 0, baseRun.StdErr);
        Dictionary<string, string>? first = null;
        foreach (var (name, env, threads, chunk) in Configurations)
        {
            var r = Run(env, model, threads, chunk, a, b);
            Assert.True(r.ExitCode == 0, $"{name}: exit {r.ExitCode}\n{r.StdErr}");
            var s = r.Summary();
            output.WriteLine($"{type} {name}: commitment={s["commitment"]} tokens={s["generated"]}");
            first ??= s;
            Assert.Equal(first["generated"], s["generated"]);
            Assert.Equal(first["logits"], s["logits"]);
            Assert.Equal(first["commitment"], s["commitment"]);
        }
        Assert.NotEqual(baseRun.Summary()["logits"], first!["logits"]);
    }

    [Fact]
    public void An_adapter_for_another_model_is_refused_with_its_reason()
    {
        string model = SyntheticModels.Path(GgmlType.F32, layers: 2);
        string deep = LoraAdapters.Path(GgmlType.F32, "three-layers", new SyntheticLoraSpec { Layers = [2], Seed = 3 });
        var r = Run(Native, model, 1, 0, deep);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("the model has 2 layers", r.StdErr);
    }
}
