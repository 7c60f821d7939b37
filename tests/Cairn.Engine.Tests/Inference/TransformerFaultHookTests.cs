using Cairn.Engine.Generation;
using Cairn.Engine.Inference;
using Cairn.Engine.Models;
using Cairn.Engine.Sampling;
using Cairn.Engine.Tensors;
using Cairn.Engine.Tests.TestSupport;
using Cairn.Engine.Verification;

namespace Cairn.Engine.Tests.Inference;

/// <summary>
/// The engine's FAULT INJECTION hooks (tests only) that cheating providers are built on: skipped layers, a trace tamper
/// and a token override. Each must show in a replay of the generation exactly as in the generation itself, and must
/// change nothing when off (the determinism tests, which run with every hook off, pin that).
/// </summary>
public sealed class TransformerFaultHookTests
{
    private static readonly int[] Prompt = [1, 7, 42, 99, 3, 250];

    private static GenerationResult Generate(Transformer t, GenerationOptions? options = null) => new Generator(t).Generate(Prompt, options ?? new GenerationOptions
    {
        MaxTokens = 8,
        Commitment = true,
        StopAtEndOfGeneration = false,
        Sampling = new SamplingOptions { Temperature = 0.8f, Seed = 5 },
    });

    private static int[] Fed(GenerationResult r) => [.. r.PromptTokens, .. r.Tokens[..^1]];

    [Fact]
    public void A_skipped_layer_passes_its_input_through_and_the_replay_sees_the_same_trace()
    {
        using var model = Model.Load(SyntheticModels.Path(GgmlType.Q8_0));
        var honest = new Transformer(model);
        var lazy = new Transformer(model) { SkippedLayers = [1] };
        Assert.Equal([1], lazy.SkippedLayers);

        var h = Generate(honest);
        var c = Generate(lazy);
        Assert.NotEqual(h.OutputCommitment, c.OutputCommitment);
        var trace = TraceExport.Replay(lazy, Fed(c));
        Assert.Equal(c.TraceRoot, trace.TraceRoot);
        for (int step = 0; step < trace.LayerHashes.Length; step++) Assert.Equal(trace.LayerHashes[step][0], trace.LayerHashes[step][1]); // output = input

        // Against the honest trace over the same tokens, the first difference is the skipped layer at step 0.
        var honestOverSame = TraceExport.Replay(honest, Fed(c));
        Assert.Equal(honestOverSame.LayerHashes[0][0], trace.LayerHashes[0][0]);
        Assert.NotEqual(honestOverSame.LayerHashes[0][1], trace.LayerHashes[0][1]);
    }

    [Fact]
    public void No_skipped_layers_is_the_honest_transformer_bit_for_bit()
    {
        using var model = Model.Load(SyntheticModels.Path(GgmlType.Q4_0));
        var cleared = new Transformer(model) { SkippedLayers = [2] };
        cleared.SkippedLayers = [];
        Assert.Empty(cleared.SkippedLayers);
        var a = Generate(new Transformer(model));
        var b = Generate(cleared);
        Assert.Equal(a.Tokens, b.Tokens);
        Assert.Equal(a.LogitsHash, b.LogitsHash);
        Assert.Equal(a.OutputCommitment, b.OutputCommitment);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(3)]
    public void A_skipped_layer_outside_the_model_is_refused(int layer)
    {
        using var model = Model.Load(SyntheticModels.Path(GgmlType.F32));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Transformer(model) { SkippedLayers = [layer] });
    }

    [Fact]
    public void A_trace_tamper_forges_the_hashes_of_generation_and_replay_alike()
    {
        using var model = Model.Load(SyntheticModels.Path(GgmlType.Q8_0));
        var honest = new Transformer(model);
        var forger = new Transformer(model)
        {
            TraceTamper = (_, layer, hash) =>
            {
                if (layer == 2) hash[0] ^= 0xFF;
            },
        };
        var h = Generate(honest);
        var f = Generate(forger);
        Assert.Equal(h.Tokens, f.Tokens); // the computation is honest
        Assert.Equal(h.LogitsHash, f.LogitsHash);
        Assert.NotEqual(h.TraceRoot, f.TraceRoot);
        var honestTrace = TraceExport.Replay(honest, Fed(h));
        var forgedTrace = TraceExport.Replay(forger, Fed(f));
        Assert.Equal(f.TraceRoot, forgedTrace.TraceRoot);
        for (int step = 0; step < honestTrace.LayerHashes.Length; step++)
        {
            Assert.Equal(honestTrace.LayerHashes[step][..2], forgedTrace.LayerHashes[step][..2]);
            Assert.Equal(honestTrace.LayerHashes[step][2][0] ^ 0xFF, forgedTrace.LayerHashes[step][2][0]);
        }
    }

    [Fact]
    public async Task A_token_override_replaces_sampling_and_is_traced_honestly_in_both_generators()
    {
        using var model = Model.Load(SyntheticModels.Path(GgmlType.Q8_0));
        var t = new Transformer(model);
        int[] forced = [300, 301, 5, 77, 400, 12, 13, 14];
        var options = new GenerationOptions { MaxTokens = 8, Commitment = true, StopAtEndOfGeneration = false, TokenOverride = i => forced[i] };
        var r = Generate(t, options);
        Assert.Equal(forced, r.Tokens);
        Assert.Equal(r.TraceRoot, TraceExport.Replay(t, Fed(r)).TraceRoot);

        using var batcher = new ContinuousBatcher(t);
        var b = await batcher.Submit(Prompt, options);
        Assert.Equal(r.Tokens, b.Tokens);
        Assert.Equal(r.OutputCommitment, b.OutputCommitment);
        Assert.NotEqual(Generate(t).OutputCommitment, r.OutputCommitment);
    }
}
