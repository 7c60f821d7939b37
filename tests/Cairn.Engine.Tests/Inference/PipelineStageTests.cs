using Cairn.Engine.Commitments;
using Cairn.Engine.Generation;
using Cairn.Engine.Inference;
using Cairn.Engine.Models;
using Cairn.Engine.Sampling;
using Cairn.Engine.Tensors;
using Cairn.Engine.Tests.TestSupport;

namespace Cairn.Engine.Tests.Inference;

/// <summary>
/// A model split into pipeline stages, each loaded on its own with only its layers (<see cref="Model.LoadStage"/>), gives
/// exactly the floats, layer hashes, tokens and output commitment of the whole model in one process (DESIGN.md §3, §6).
/// </summary>
public sealed class PipelineStageTests
{
    private static readonly int[] Prompt = [1, 40, 77, 120, 200, 33, 5, 250, 17, 99, 64, 3, 180];

    private static string EightLayerQ8() => SyntheticModels.Path(GgmlType.Q8_0, layers: 8);

    public static TheoryData<string, int[], int> Splits() => new()
    {
        { "aidreams260K", [0, 1, 3, 4], 1 },
        { "aidreams260K", [0, 1, 3, 4], 2 },
        { "aidreams260K", [0, 2, 4], 2 },
        { "q8-8", [0, 3, 5, 8], 1 },
        { "q8-8", [0, 1, 2, 7, 8], 2 },
        { "q8-8", [0, 8], 2 },
    };

    private static string PathOf(string name) => name == "aidreams260K" ? ReferenceData.Model("aidreams260K.gguf") : EightLayerQ8();

    [Theory]
    [MemberData(nameof(Splits))]
    public void A_generation_split_into_stages_equals_the_single_process_run(string name, int[] bounds, int threads)
    {
        string path = PathOf(name);
        var sampling = new SamplingOptions { Temperature = 0.8f, Seed = 42, TopK = 40, TopP = 0.95f, RepeatPenalty = 1.1f };
        int[] prompt = name == "aidreams260K" ? [1, 100, 265, 300, 431] : Prompt;
        GenerationResult single;
        using (var whole = Model.Load(path))
        {
            single = new Generator(new Transformer(whole, threads)).Generate(prompt, new GenerationOptions
            {
                MaxTokens = 12,
                Sampling = sampling,
                Commitment = true,
                StopAtEndOfGeneration = false,
            });
        }

        var stages = new List<Model>();
        try
        {
            for (int i = 0; i + 1 < bounds.Length; i++) stages.Add(Model.LoadStage(path, bounds[i], bounds[i + 1]));
            var (tokens, commitment, traceRoot) = RunPipeline(stages, threads, prompt, sampling, 12);
            Assert.Equal(single.Tokens, tokens);
            Assert.Equal(single.TraceRoot, traceRoot);
            Assert.Equal(single.OutputCommitment, commitment);
        }
        finally
        {
            foreach (var m in stages) m.Dispose();
        }
    }

    [Fact]
    public void A_stage_holds_only_its_share_of_the_weights()
    {
        string path = EightLayerQ8();
        using var whole = Model.Load(path);
        using var first = Model.LoadStage(path, 0, 3);
        using var middle = Model.LoadStage(path, 3, 5);
        using var last = Model.LoadStage(path, 5, 8);
        Assert.True(first.HasEmbedding && !first.HasHead);
        Assert.True(!middle.HasEmbedding && !middle.HasHead);
        Assert.True(!last.HasEmbedding && last.HasHead);
        Assert.True(whole.IsWhole);
        Assert.Equal(whole.WeightBytes, first.WeightBytes + middle.WeightBytes + last.WeightBytes);
        Assert.True(middle.WeightBytes < whole.WeightBytes / 3);
        Assert.Throws<InvalidOperationException>(() => middle.TokenEmbedding);
        Assert.Throws<InvalidOperationException>(() => middle.Layer(5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Model.LoadStage(path, 3, 9));
        Assert.Throws<ArgumentOutOfRangeException>(() => Model.LoadStage(path, 4, 4));
    }

    [Fact]
    public void A_stage_session_allocates_the_kv_cache_of_its_layers_only()
    {
        string path = EightLayerQ8();
        using var middle = Model.LoadStage(path, 3, 5);
        var t = new Transformer(middle);
        var session = t.CreateSession(trace: true);
        var hidden = new float[4 * middle.Config.Dim];
        hidden.AsSpan().Fill(0.25f);
        t.RunStage(session, 0, hidden);
        Assert.Equal(4, session.Length);
        for (int l = 0; l < middle.Config.Layers; l++) Assert.Equal(l is 3 or 4 ? 4 : 0, session.Filled(l));
        Assert.NotNull(session.Trace!.LayerHash(3, 4));
        Assert.Null(session.Trace.LayerHash(3, 5));
    }

    /// <summary>What a gateway and its stages do together: stage to stage activations, the last samples, the trace assembled from the parts.</summary>
    internal static (int[] Tokens, byte[] Commitment, byte[] TraceRoot) RunPipeline(IReadOnlyList<Model> stages, int threads, int[] prompt, SamplingOptions sampling, int maxTokens)
    {
        var transformers = stages.Select(m => new Transformer(m, threads)).ToArray();
        var sessions = transformers.Select(t => t.CreateSession(trace: true)).ToArray();
        int layers = stages[0].Config.Layers;
        var trace = new TraceRecorder(layers);
        var sampler = new Sampler(sampling);
        foreach (int token in prompt) sampler.Accept(token);
        var generated = new List<int>();
        int position = 0;
        int[] input = prompt;
        while (true)
        {
            float[] hidden = transformers[0].StageForward(sessions[0], position, input);
            for (int s = 1; s < stages.Count; s++) transformers[s].RunStage(sessions[s], position, hidden);
            for (int s = 0; s < stages.Count; s++)
            {
                for (int p = position; p < position + input.Length; p++)
                {
                    for (int l = stages[s].FirstLayer; l < stages[s].EndLayer; l++) trace.RecordHash(p, l, sessions[s].Trace!.LayerHash(p, l)!);
                }
            }
            position += input.Length;
            int next = sampler.Sample(transformers[^1].LastLogits(hidden));
            generated.Add(next);
            if (generated.Count >= maxTokens) break;
            input = [next];
        }
        byte[] root = trace.TraceRoot();
        return (generated.ToArray(), OutputCommitment.Compute(generated.ToArray(), root), root);
    }
}
