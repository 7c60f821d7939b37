using System.Diagnostics;
using System.Security.Cryptography;
using Cairn.Engine.Commitments;
using Cairn.Engine.Generation;
using Cairn.Engine.Inference;
using Cairn.Engine.Models;
using Cairn.Engine.Sampling;
using Cairn.Engine.Tensors;
using Cairn.Engine.Tests.TestSupport;
using Cairn.Engine.Verification;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Sampling;
using Xunit.Abstractions;

namespace Cairn.Engine.Tests.Verification;

public class DisputeTests(ITestOutputHelper output)
{
    private static readonly int[] Prompt = [1, 7, 42, 99, 3, 250];

    internal static (int[] Fed, GenerationResult Result) Honest(Transformer t, int maxTokens = 10)
    {
        var result = new Generator(t).Generate(Prompt, new GenerationOptions
        {
            MaxTokens = maxTokens,
            Commitment = true,
            StopAtEndOfGeneration = false,
            Sampling = new SamplingOptions { Temperature = 0.8f, Seed = 5 },
        });
        return ([.. result.PromptTokens, .. result.Tokens[..^1]], result);
    }

    /// <summary>A lazy provider: from step <paramref name="fromStep"/> on it skips layer <paramref name="skipped"/> and forges its hash (the layer's input).</summary>
    internal static ExportedTrace SkippingLayer(Transformer t, int[] fed, int fromStep, int skipped)
    {
        int dim = t.Config.Dim, layers = t.Config.Layers;
        var s = t.CreateSession(capacity: fed.Length, trace: true);
        for (int pos = 0; pos < fed.Length; pos++)
        {
            var h = new float[dim];
            t.Embed([fed[pos]], h);
            BatchItem[] b = [new(s, pos)];
            if (pos < fromStep) t.RunLayers(0, layers, b, h);
            else
            {
                t.RunLayers(0, skipped, b, h);
                s.Trace!.Record(pos, skipped, h);
                t.RunLayers(skipped + 1, layers, b, h);
            }
        }
        return TraceExport.FromSession(s);
    }

    internal static TraceCommitment Commitment(ExportedTrace e) =>
        TraceCommitment.FromLayerHashes(e.LayerHashes.Select(step => (IReadOnlyList<Hash256>)step.Select(h => new Hash256(h)).ToArray()).ToArray());

    private static Transformer Synthetic() => new(Model.Load(SyntheticModels.Path(GgmlType.Q8_0)), 2);

    [Fact]
    public void Replayed_trace_equals_the_generation_trace_and_capture_is_off_by_default()
    {
        var t = Synthetic();
        var (fed, result) = Honest(t);
        var replay = TraceExport.Replay(t, fed, captureLayer: 1);
        Assert.Equal(result.TraceRoot, replay.TraceRoot);
        Assert.Equal(fed.Length, replay.Captured!.Length);
        for (int i = 0; i < fed.Length; i++) Assert.Equal(replay.LayerHashes[i][1], SHA256.HashData(CanonicalFloats.Bytes(replay.Captured[i])));
        var plain = t.CreateSession(trace: true);
        t.Forward(plain, fed, []);
        Assert.Null(plain.Trace!.Captured(0));
    }

    [Fact]
    public void Protocol_merkle_rule_equals_the_engine_merkle_tree()
    {
        for (int n = 0; n <= 33; n++)
        {
            var leaves = Enumerable.Range(0, n).Select(i => SHA256.HashData(BitConverter.GetBytes(i * 7919 + n))).ToArray();
            Assert.Equal(MerkleTree.Root(leaves), TraceMerkle.Root(leaves.Select(l => new Hash256(l)).ToArray()).ToArray());
        }
    }

    [Theory]
    [InlineData(8, 1)]   // a generated step, a middle layer
    [InlineData(0, 0)]   // the first step, layer 0 (inputs are the embeddings)
    [InlineData(5, 2)]   // the last prompt position, the last layer
    [InlineData(14, 2)]  // the last step
    public void Bisection_finds_the_cheat_and_the_referee_sides_with_the_honest_party(int step, int layer)
    {
        var t = Synthetic();
        var (fed, result) = Honest(t);
        var honest = TraceExport.Replay(t, fed, captureLayer: layer - 1);
        var cheater = SkippingLayer(t, fed, step, layer);
        Assert.Equal(result.TraceRoot, honest.TraceRoot);
        Assert.NotEqual(honest.TraceRoot, cheater.TraceRoot);

        var a = Commitment(honest);
        var b = Commitment(cheater);
        Assert.True(a.Matches(new Hash256(honest.TraceRoot)));
        Assert.True(b.Matches(new Hash256(cheater.TraceRoot)));
        Assert.Equal(new DisputePoint(step, layer), Bisection.FirstDifference(a, b));

        var c = TraceExport.Case(honest, fed, step, layer);
        if (layer > 0)
        {
            for (int i = 0; i <= step; i++) Assert.Equal(cheater.LayerHashes[i][layer - 1], c.AgreedInputHashes![i]); // agreed by both
        }
        var verdict = Referee.Recompute(t, c);
        Assert.Equal(honest.LayerHashes[step][layer], verdict.Hash);
        Assert.NotEqual(cheater.LayerHashes[step][layer], verdict.Hash);

        // a fresh transformer with other threads gives the same bits
        Assert.Equal(verdict.Hash, Referee.Recompute(new Transformer(t.Model, 1), c).Hash);
    }

    [Fact]
    public void Referee_refuses_inputs_that_are_not_the_agreed_ones()
    {
        var t = Synthetic();
        var (fed, _) = Honest(t);
        var honest = TraceExport.Replay(t, fed, captureLayer: 0);
        var c = TraceExport.Case(honest, fed, 7, 1);
        var tampered = c.Inputs!.Select(r => (float[])r.Clone()).ToArray();
        tampered[3][5] += 1e-3f;
        Assert.Throws<RefereeException>(() => Referee.Recompute(t, c with { Inputs = tampered }));
        Assert.Throws<RefereeException>(() => Referee.Recompute(t, c with { Inputs = c.Inputs![..7] }));
        Assert.Throws<RefereeException>(() => Referee.Recompute(t, c with { Layer = 0 }));
    }

    [Fact]
    public void Dispute_cost_on_aidreams260K_versus_full_rerun() =>
        Measure("aidreams260K", new Transformer(Model.Load(ReferenceData.Model("aidreams260K.gguf")), 1), 120, 5);

    /// <summary>Set CAIRN_DISPUTE_MODEL to a GGUF file (e.g. the 110M-class synthetic model of docs/verification.md) to measure it.</summary>
    [Fact]
    public void Dispute_cost_on_the_model_in_CAIRN_DISPUTE_MODEL()
    {
        var path = Environment.GetEnvironmentVariable("CAIRN_DISPUTE_MODEL");
        if (string.IsNullOrEmpty(path))
        {
            output.WriteLine("CAIRN_DISPUTE_MODEL is not set: nothing measured");
            return;
        }
        int threads = int.TryParse(Environment.GetEnvironmentVariable("CAIRN_DISPUTE_THREADS"), out var n) ? n : 1;
        Measure(Path.GetFileName(path), new Transformer(Model.Load(path), threads), 120, 2);
    }

    private void Measure(string name, Transformer t, int maxTokens, int repeats)
    {
        var (fed, result) = Honest(t, maxTokens);
        int layers = t.Config.Layers, step = fed.Length - 1, layer = layers / 2;
        var honest = TraceExport.Replay(t, fed, captureLayer: layer - 1);
        var cheater = SkippingLayer(t, fed, step, layer);
        Assert.Equal(new DisputePoint(step, layer), Bisection.FirstDifference(Commitment(honest), Commitment(cheater)));
        var c = TraceExport.Case(honest, fed, step, layer);
        Referee.Recompute(t, c); // warm up
        TraceExport.Replay(t, fed);
        var full = Stopwatch.StartNew();
        for (int i = 0; i < repeats; i++) TraceExport.Replay(t, fed);
        full.Stop();
        var verdict = default(RefereeResult);
        var one = Stopwatch.StartNew();
        for (int i = 0; i < repeats; i++) verdict = Referee.Recompute(t, c);
        one.Stop();
        Assert.Equal(honest.LayerHashes[step][layer], verdict!.Hash);
        double generation = (result.PrefillTime + result.DecodeTime).TotalMilliseconds;
        double replay = full.Elapsed.TotalMilliseconds / repeats, referee = one.Elapsed.TotalMilliseconds / repeats;
        output.WriteLine($"{name}: {layers} layers, {fed.Length} positions, {t.Threads} thread(s); generation (prefill + decode) {generation:F1} ms; "
            + $"full re-run as one prefill {replay:F1} ms; referee (1 layer × {verdict.Positions} positions) {referee:F2} ms; "
            + $"referee / re-run {referee / replay:F4}, referee / generation {referee / generation:F4} (1/L = {1.0 / layers:F4})");
    }
}
