using Cairn.Engine.Adapters;
using Cairn.Engine.Inference;
using Cairn.Engine.Models;
using Cairn.Engine.Tensors;
using Cairn.Engine.Tests.TestSupport;
using Xunit.Abstractions;

namespace Cairn.Engine.Tests.Adapters;

/// <summary>
/// What an adapter does to the forward pass: base + (α/r)·B·A (checked against a float64 merge of the weights, for
/// every weight type), nothing when it is absent or zero, and the same bits whatever the threads, chunks and batch.
/// </summary>
public sealed class LoraMathTests(ITestOutputHelper output)
{
    private static readonly int[] Prompt = [1, 40, 77, 120, 200, 33, 5, 250, 17, 99, 64, 3, 180];

    public static TheoryData<GgmlType> Types => SyntheticModels.Types();

    private static readonly SyntheticLoraSpec Everything = new() { Targets = LoraAdapters.AllTargets, Rank = 4, Alpha = 8f, Magnitude = 0.15f, Seed = 7 };
    private static readonly SyntheticLoraSpec Second = new() { Targets = [LoraTarget.AttnK, LoraTarget.FfnDown], Rank = 8, Alpha = 4f, Magnitude = 0.1f, Type = GgmlType.F16, Seed = 8 };

    private static float[] Logits(Model model, IReadOnlyList<LoraAdapter>? adapters, int threads = 2, int chunk = 0)
    {
        var t = new Transformer(model, threads);
        var session = t.CreateSession(adapters: adapters);
        var logits = new float[model.Config.VocabSize];
        chunk = chunk == 0 ? Prompt.Length : chunk;
        for (int i = 0; i < Prompt.Length; i += chunk) t.Forward(session, Prompt.AsSpan(i, Math.Min(chunk, Prompt.Length - i)), logits);
        return logits;
    }

    private static double MaxAbs(IEnumerable<double> xs) => xs.Max(Math.Abs);

    /// <summary>
    /// The engine's Δ = logits(W, adapters) − logits(W) against the independent Δ = logits(W') − logits(dequant W), with
    /// W' = dequant(W) + Σ (α/r)·B·A merged in float64 and stored as F32. Exact equality is impossible (the merge sums
    /// in another order; for quantized types the engine's base product uses Q8 activations while the F32 reference
    /// does not), so the bound is relative to the size of Δ: 1e-4 for F32/F16/BF16 (measured ≤ 6e-7: float rounding
    /// only), 5% for the quantized types (measured 1.1–2.5%: the base product's Q8 activation rounding acting on the
    /// changed activations, which the F32 reference does not have — not an error in the adapter's term).
    /// </summary>
    [Theory]
    [MemberData(nameof(Types))]
    public void With_adapters_the_output_is_base_plus_scaled_BA_for_every_weight_type(GgmlType type)
    {
        string modelPath = SyntheticModels.Path(type);
        var adapters = new[]
        {
            LoraAdapter.Load(LoraAdapters.Path(type, "all", Everything)),
            LoraAdapter.Load(LoraAdapters.Path(type, "second", Second)),
        };
        using var dir = new TempFolder();
        string merged = LoraAdapters.Merged(modelPath, adapters, merge: true, Path.Combine(dir.Path, "merged.gguf"));
        string unmerged = LoraAdapters.Merged(modelPath, adapters, merge: false, Path.Combine(dir.Path, "unmerged.gguf"));

        using var model = Model.Load(modelPath);
        using var mergedModel = Model.Load(merged);
        using var unmergedModel = Model.Load(unmerged);
        var engineDelta = Logits(model, adapters).Zip(Logits(model, null), (a, b) => (double)a - b).ToArray();
        var mergedDelta = Logits(mergedModel, null).Zip(Logits(unmergedModel, null), (a, b) => (double)a - b).ToArray();
        double size = MaxAbs(mergedDelta), error = MaxAbs(engineDelta.Zip(mergedDelta, (a, b) => a - b));
        output.WriteLine($"{type}: max |Δ| = {size:G4}, max |Δ_engine − Δ_merged| = {error:G4} ({error / size:P3})");
        Assert.True(size > 0.05, $"the adapters hardly change the logits (max |Δ| = {size})");
        double bound = type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 ? 1e-4 : 0.05;
        Assert.True(error <= bound * size, $"{type}: engine and float64 merge differ by {error} for a change of {size}");
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Without_adapters_or_with_a_zero_update_the_bits_are_the_base_models(GgmlType type)
    {
        using var model = Model.Load(SyntheticModels.Path(type));
        var zero = LoraAdapter.Load(LoraAdapters.Path(type, "zero", Everything with { ZeroB = true }));
        var baseBits = Logits(model, null).Select(BitConverter.SingleToInt32Bits).ToArray();
        Assert.Equal(baseBits, Logits(model, []).Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(baseBits, Logits(model, [zero]).Select(BitConverter.SingleToInt32Bits));
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Adapted_runs_are_bit_identical_across_threads_chunks_and_batches_with_other_sessions(GgmlType type)
    {
        using var model = Model.Load(SyntheticModels.Path(type));
        var adapters = new[] { LoraAdapter.Load(LoraAdapters.Path(type, "all", Everything)), LoraAdapter.Load(LoraAdapters.Path(type, "second", Second)) };
        var reference = Logits(model, adapters, threads: 1).Select(BitConverter.SingleToInt32Bits).ToArray();
        foreach (var (threads, chunk) in new[] { (2, 1), (3, 5), (8, 0), (2, 7) })
            Assert.Equal(reference, Logits(model, adapters, threads, chunk).Select(BitConverter.SingleToInt32Bits));

        // In one batch with a session without adapters and one with them in the other order: each keeps its own bits.
        var t = new Transformer(model, 3);
        var mine = t.CreateSession(adapters: adapters);
        var plain = t.CreateSession();
        var swapped = t.CreateSession(adapters: [adapters[1], adapters[0]]);
        var logits = t.ForwardBatch([(plain, Prompt[..5]), (mine, Prompt), (swapped, Prompt[..9])], []);
        Assert.Equal(reference, logits[1].Select(BitConverter.SingleToInt32Bits));
        Assert.NotEqual(reference, Logits(model, [adapters[1], adapters[0]]).Select(BitConverter.SingleToInt32Bits));
    }

    private sealed class TempFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("cairn-lora-merge-").FullName;
        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
