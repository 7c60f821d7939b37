using System.Diagnostics;

namespace Cairn.Node.Provider;

public sealed partial class ServedModel
{
    /// <summary>Whether only a layer range is served (a pipeline stage, <c>--layers A:B</c>), or any range (<see cref="Flexible"/>).</summary>
    public bool IsStage => !Model.IsWhole || Flexible;

    /// <summary>A flexible stage (<c>--layers auto</c>): announced as a stage even when it holds every layer, and it loads the ranges the gateway assigns.</summary>
    public bool Flexible { get; set; }

    /// <summary>Bytes of the f32 KV cache of the layers held, for a full context of one sequence.</summary>
    public long KvCacheBytes => (long)Model.Layers.Count * 2 * Model.Config.KvDim * Model.Config.ContextLength * sizeof(float);

    /// <summary>Null if the weights held and a full-context KV cache fit in <paramref name="budget"/> bytes, else why not.</summary>
    public string? CheckBudget(long budget)
    {
        long need = Model.WeightBytes + KvCacheBytes;
        if (need <= budget) return null;
        string what = IsStage ? $"layers {Model.FirstLayer}:{Model.EndLayer} of {Name}" : Name;
        return $"{what} need {Mib(need)} ({Mib(Model.WeightBytes)} of weights + {Mib(KvCacheBytes)} of KV cache for {Model.Config.ContextLength} positions), "
            + $"more than the memory budget of {Mib(budget)}; serve fewer layers (--layers) or raise --memory";
    }

    private static string Mib(long bytes) => $"{bytes / (1024.0 * 1024):F1} MiB";

    /// <summary>The stage's diagnostic benchmark: 16 positions at once (prefill), then 16 one at a time (decode), on fixed inputs.</summary>
    private (double PrefillTokS, double DecodeTokS) StageBenchmark()
    {
        int n = Math.Min(16, Model.Config.ContextLength / 2), dim = Model.Config.Dim;
        var session = Transformer.CreateSession(capacity: 2 * n);
        var tokens = new int[n];
        for (int i = 0; i < n; i++) tokens[i] = (i * 7 + 1) % Model.Config.VocabSize;
        var hidden = new float[n * dim];
        for (int i = 0; i < hidden.Length; i++) hidden[i] = (i % 17 - 8) / 8f;
        var clock = Stopwatch.StartNew();
        Step(session, 0, tokens, hidden);
        double prefill = n / Math.Max(clock.Elapsed.TotalSeconds, 1e-6);
        clock.Restart();
        for (int i = 0; i < n; i++) Step(session, n + i, tokens.AsSpan(i, 1), hidden.AsSpan(i * dim, dim));
        return (prefill, n / Math.Max(clock.Elapsed.TotalSeconds, 1e-6));
    }

    private void Step(Engine.Inference.Session session, int start, ReadOnlySpan<int> tokens, Span<float> hidden)
    {
        if (Model.HasEmbedding) Transformer.StageForward(session, start, tokens);
        else Transformer.RunStage(session, start, hidden.ToArray());
    }

    /// <summary>
    /// The 10th-percentile time of <paramref name="steps"/> single-row decode steps (after two warm-up steps) and the fastest
    /// of three <paramref name="rows"/>-row prefills, on a scratch session. A low percentile rather than the median: on a shared
    /// machine other work only ever adds time, so the fast steps are the machine's own speed.
    /// </summary>
    internal (TimeSpan Decode, TimeSpan Prefill, int Rows) CalibrationTimes(int steps, int rows)
    {
        int dim = Model.Config.Dim;
        rows = Math.Min(rows, Model.Config.ContextLength / 2);
        var session = Transformer.CreateSession(capacity: rows + steps + 2);
        var tokens = new int[rows];
        for (int i = 0; i < rows; i++) tokens[i] = (i * 7 + 1) % Model.Config.VocabSize;
        var hidden = new float[rows * dim];
        for (int i = 0; i < hidden.Length; i++) hidden[i] = (i % 17 - 8) / 8f;
        var clock = new Stopwatch();
        var prefill = TimeSpan.MaxValue;
        for (int i = 0; i < 3; i++) // the fastest of three (a start of 0 forgets the previous run)
        {
            clock.Restart();
            Step(session, 0, tokens, hidden);
            if (clock.Elapsed < prefill) prefill = clock.Elapsed;
        }
        var times = new List<TimeSpan>(steps);
        for (int i = 0; i < steps + 2; i++)
        {
            clock.Restart();
            Step(session, rows + i, tokens.AsSpan(i % rows, 1), hidden.AsSpan(i % rows * dim, dim));
            if (i >= 2) times.Add(clock.Elapsed);
        }
        times.Sort();
        return (times[times.Count / 10], prefill, rows);
    }
}
