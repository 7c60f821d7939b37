using Cairn.Engine.Generation;
using Cairn.Engine.Inference;
using Cairn.Engine.Models;
using Cairn.Engine.Sampling;
using Cairn.Engine.Tensors;
using Cairn.Engine.Tests.TestSupport;

namespace Cairn.Engine.Tests.Inference;

/// <summary>In-process checks of DESIGN.md §3: chunking, batching, layer splits and threads change no bit.</summary>
public sealed class TransformerDeterminismTests
{
    private static readonly int[] Prompt = [1, 40, 77, 120, 200, 33, 5, 250, 17, 99, 64, 3, 180];

    public static TheoryData<GgmlType> Types => SyntheticModels.Types();

    private static (float[] Logits, byte[] Trace) Prefill(Model model, int threads, int chunk)
    {
        var t = new Transformer(model, threads);
        var session = t.CreateSession(trace: true);
        var logits = new float[model.Config.VocabSize];
        for (int i = 0; i < Prompt.Length; i += chunk)
            t.Forward(session, Prompt.AsSpan(i, Math.Min(chunk, Prompt.Length - i)), logits);
        return (logits, session.Trace!.TraceRoot());
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Prefill_chunk_size_and_thread_count_change_no_bit(GgmlType type)
    {
        using var model = Model.Load(SyntheticModels.Path(type));
        var (logits, trace) = Prefill(model, 1, Prompt.Length);
        Assert.Contains(logits, x => x != 0f);
        foreach (var (threads, chunk) in new[] { (1, 1), (2, 7), (3, 5), (8, Prompt.Length), (2, 1) })
        {
            var (l2, t2) = Prefill(model, threads, chunk);
            Assert.Equal(Bits(logits), Bits(l2));
            Assert.Equal(trace, t2);
        }
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void A_full_run_equals_the_composition_of_its_layer_ranges(GgmlType type)
    {
        using var model = Model.Load(SyntheticModels.Path(type));
        var t = new Transformer(model, 2);
        int dim = model.Config.Dim, n = Prompt.Length;

        var whole = t.CreateSession(trace: true);
        var h1 = new float[n * dim];
        t.Embed(Prompt, h1);
        t.RunLayers(0, model.Config.Layers, Items(whole, n), h1);

        var split = t.CreateSession(trace: true);
        var h2 = new float[n * dim];
        t.Embed(Prompt, h2);
        t.RunLayers(0, 1, Items(split, n), h2);
        t.RunLayers(1, 2, Items(split, n), h2);
        t.RunLayers(2, model.Config.Layers, Items(split, n), h2);

        Assert.Equal(Bits(h1), Bits(h2));
        Assert.Equal(whole.Trace!.TraceRoot(), split.Trace!.TraceRoot());
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Decoding_in_a_batch_with_other_sequences_changes_no_bit(GgmlType type)
    {
        using var model = Model.Load(SyntheticModels.Path(type));
        var generator = new Generator(new Transformer(model, 2));
        var options = new GenerationOptions
        {
            MaxTokens = 6,
            Commitment = true,
            StopAtEndOfGeneration = false,
            Sampling = new SamplingOptions { Temperature = 0.9f, Seed = 5, TopK = 0, MinP = 0 },
        };
        var alone = generator.Generate(Prompt, options);
        var batch = generator.GenerateBatch([Prompt[..4], Prompt, Prompt[..9], [1, 2, 3]], options with { PrefillChunk = 3 });
        Assert.Equal(alone.Tokens, batch[1].Tokens);
        Assert.Equal(alone.LogitsHash, batch[1].LogitsHash);
        Assert.Equal(alone.OutputCommitment, batch[1].OutputCommitment);
        Assert.NotEqual(alone.OutputCommitment, batch[0].OutputCommitment);
    }

    [Fact]
    public void Qwen2_and_tied_output_models_are_deterministic_too()
    {
        foreach (var (arch, tied) in new[] { ("qwen2", false), ("llama", true) })
        {
            using var model = Model.Load(SyntheticModels.Path(GgmlType.Q8_0, arch, tied));
            Assert.Equal(arch, model.Config.Architecture);
            var (logits, trace) = Prefill(model, 1, Prompt.Length);
            var (l2, t2) = Prefill(model, 3, 4);
            Assert.Equal(Bits(logits), Bits(l2));
            Assert.Equal(trace, t2);
        }
    }

    [Fact]
    public void Each_weight_type_gives_a_different_trace()
    {
        var roots = SyntheticModels.SupportedTypes.Select(type =>
        {
            using var model = Model.Load(SyntheticModels.Path(type));
            return Convert.ToHexString(Prefill(model, 2, Prompt.Length).Trace);
        }).ToList();
        Assert.Equal(roots.Count, roots.Distinct().Count());
    }

    private static BatchItem[] Items(Session s, int n) => Enumerable.Range(0, n).Select(i => new BatchItem(s, i)).ToArray();

    internal static int[] Bits(float[] x) => x.Select(BitConverter.SingleToInt32Bits).ToArray();
}
