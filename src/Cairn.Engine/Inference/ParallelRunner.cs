namespace Cairn.Engine.Inference;

/// <summary>
/// Splits independent work items over a fixed number of threads. Each item (an output row, an attention head)
/// is computed entirely by one thread, so the result does not depend on how items are split (DESIGN.md §3 rule 2).
/// </summary>
public sealed class ParallelRunner
{
    private readonly ParallelOptions _options;

    public ParallelRunner(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Threads = threads;
        _options = new ParallelOptions { MaxDegreeOfParallelism = threads };
    }

    public int Threads { get; }

    /// <summary>Runs <paramref name="body"/>(start, end) over [0, count) in chunks of at least <paramref name="minChunk"/>.</summary>
    public void For(int count, int minChunk, Action<int, int> body)
    {
        if (count <= 0) return;
        int chunks = Math.Min(Threads * 4, (count + minChunk - 1) / minChunk);
        if (Threads == 1 || chunks <= 1)
        {
            body(0, count);
            return;
        }
        int size = (count + chunks - 1) / chunks;
        chunks = (count + size - 1) / size;
        Parallel.For(0, chunks, _options, c => body(c * size, Math.Min(count, (c + 1) * size)));
    }
}
