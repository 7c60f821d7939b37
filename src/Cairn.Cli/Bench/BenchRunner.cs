using System.Diagnostics;
using System.Globalization;
using Cairn.Engine.Inference;
using Cairn.Engine.Models;

namespace Cairn.Cli.Bench;

/// <summary>What <c>cairn bench</c> measures.</summary>
internal sealed record BenchOptions(string Model, int Threads, int PromptTokens, int GenTokens, int Repeats, bool Bandwidth = false);

/// <summary>
/// Measures a model as llama-bench does: prefill is one forward pass over <c>PromptTokens</c> random tokens in a fresh
/// sequence (llama-bench's pp test), decode is <c>GenTokens</c> forward passes of one token each from position 0 of a
/// fresh sequence (its tg test). One untimed warm-up of each comes first; then each is repeated and timed alone.
/// </summary>
internal static class BenchRunner
{
    /// <summary>Runs the benchmark (a synthetic model is written first if it is not cached; see <c>BenchCommand</c>).</summary>
    public static BenchReport Run(BenchOptions o, TextWriter progress)
    {
        string path = o.Model;
        bool synthetic = BenchModels.IsSynthetic(o.Model);
        if (synthetic)
        {
            path = BenchModels.Ensure(o.Model, progress);
        }
        else if (!File.Exists(path))
        {
            throw new FileNotFoundException($"no such model file: {path}", path);
        }

        using var model = Model.Load(path);
        var c = model.Config;
        int capacity = Math.Max(o.PromptTokens, o.GenTokens);
        if (capacity > c.ContextLength)
            throw new ArgumentException($"--prompt-tokens {o.PromptTokens} and --gen-tokens {o.GenTokens} must each fit the model's context of {c.ContextLength} positions");
        var transformer = new Transformer(model, o.Threads);
        var random = new Random(12345);
        int[] prompt = Enumerable.Range(0, o.PromptTokens).Select(_ => random.Next(c.VocabSize)).ToArray();
        int[] gen = Enumerable.Range(0, o.GenTokens).Select(_ => random.Next(c.VocabSize)).ToArray();
        var logits = new float[c.VocabSize];

        progress.WriteLine($"bench: {path}: {WeightTypes.Describe(model)}, {c.Layers} layers, dim {c.Dim}, {o.Threads} thread(s); warming up");
        if (o.PromptTokens > 0) Prefill(transformer, prompt, logits);
        if (o.GenTokens > 0) Decode(transformer, gen.AsSpan(0, Math.Min(gen.Length, 4)), logits);

        var prefill = new List<double>();
        var decode = new List<double>();
        for (int r = 0; r < o.Repeats && o.PromptTokens > 0; r++)
        {
            prefill.Add(o.PromptTokens / Prefill(transformer, prompt, logits).TotalSeconds);
            progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bench: prefill {r + 1}/{o.Repeats}: {prefill[^1]:F1} tok/s"));
        }
        for (int r = 0; r < o.Repeats && o.GenTokens > 0; r++)
        {
            decode.Add(o.GenTokens / Decode(transformer, gen, logits).TotalSeconds);
            progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bench: decode {r + 1}/{o.Repeats}: {decode[^1]:F1} tok/s"));
        }

        long peakRss = PeakMemory.Bytes(); // before the bandwidth buffer, which is not the model's
        double bandwidth = 0;
        if (o.Bandwidth)
        {
            progress.WriteLine($"bench: measuring memory read bandwidth on {o.Threads} thread(s) (1 GiB buffer, best of 7)");
            bandwidth = MemoryBandwidth.Measure(o.Threads);
        }

        return new BenchReport
        {
            Model = o.Model,
            Path = path,
            FileBytes = new FileInfo(path).Length,
            WeightType = synthetic ? BenchModels.Parse(o.Model).Type : WeightTypes.Describe(model),
            Threads = o.Threads,
            PromptTokens = o.PromptTokens,
            GenTokens = o.GenTokens,
            Repeats = o.Repeats,
            Prefill = Stats.Of(prefill),
            Decode = Stats.Of(decode),
            PeakRssBytes = peakRss,
            WeightBytesPerToken = WeightBytesPerToken(model),
            BandwidthBytesPerSecond = bandwidth,
            KvCacheBytes = 2L * c.Layers * c.KvDim * RoundUp(capacity, Session.ChunkPositions) * sizeof(float),
            CpuFeatures = CpuFeatures.InUse(),
        };
    }

    private static TimeSpan Prefill(Transformer transformer, int[] prompt, float[] logits)
    {
        Collect();
        var session = transformer.CreateSession(prompt.Length);
        long start = Stopwatch.GetTimestamp();
        transformer.Forward(session, prompt, logits);
        return Stopwatch.GetElapsedTime(start);
    }

    private static TimeSpan Decode(Transformer transformer, ReadOnlySpan<int> tokens, float[] logits)
    {
        Collect();
        var session = transformer.CreateSession(tokens.Length);
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < tokens.Length; i++) transformer.Forward(session, tokens.Slice(i, 1), logits);
        return Stopwatch.GetElapsedTime(start);
    }

    /// <summary>
    /// Frees the previous run's session (its KV cache sits in the large-object heap, which only a full collection
    /// returns) before a new one is made, untimed, so that the peak RSS holds one KV cache, as llama-bench's does.
    /// </summary>
    private static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    /// <summary>
    /// Weight bytes one decode step reads: every weight tensor once, except the token embedding, of which one row is
    /// read (unless it is also the output head, which reads all of it).
    /// </summary>
    internal static long WeightBytesPerToken(Model model)
    {
        if (!model.HasEmbedding || !model.HasHead) return model.WeightBytes;
        var embedding = model.TokenEmbedding;
        bool tied = ReferenceEquals(embedding, model.Output); // the loader hands out the one matrix for both
        return tied ? model.WeightBytes : model.WeightBytes - embedding.ByteSize + embedding.RowBytes;
    }

    private static long RoundUp(int n, int multiple) => (n + multiple - 1) / multiple * multiple;
}
