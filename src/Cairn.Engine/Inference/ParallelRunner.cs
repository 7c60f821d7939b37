using System.Diagnostics;

namespace Cairn.Engine.Inference;

/// <summary>
/// Splits independent work items over a fixed number of threads. Each item (an output row, an attention head)
/// is computed entirely by one thread, so the result does not depend on how items are split (DESIGN.md §3 rule 2).
/// <para>A persistent pool: <see cref="Threads"/> − 1 long-lived background workers plus the calling thread. A call
/// publishes its work, everyone claims chunks of [0, count) from one counter until none is left, and the caller waits
/// for the workers to finish (spinning briefly, then yielding). Idle workers spin for a short while and then sleep,
/// so a model that is not running costs no CPU. A call made while another is running on the same runner (from another
/// thread, or from inside a body) runs on its caller's thread alone — the same results, since no output depends on
/// the split.</para>
/// </summary>
public sealed class ParallelRunner
{
    private readonly Pool? _pool;

    public ParallelRunner(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Threads = threads;
        if (threads > 1) _pool = new Pool(threads - 1);
    }

    ~ParallelRunner() => _pool?.Shutdown();

    public int Threads { get; }

    /// <summary>
    /// Runs <paramref name="body"/>(start, end) over [0, count) in chunks of at least <paramref name="minChunk"/>, at most
    /// <paramref name="chunksPerThread"/> chunks per thread (more chunks: a thread that was descheduled or ran slower
    /// leaves less of the call to wait for).
    /// </summary>
    public void For(int count, int minChunk, Action<int, int> body, int chunksPerThread = 4)
    {
        if (count <= 0) return;
        int chunks = Math.Min(Threads * Math.Max(1, chunksPerThread), (count + Math.Max(1, minChunk) - 1) / Math.Max(1, minChunk));
        if (_pool == null || chunks <= 1 || !_pool.TryEnter())
        {
            body(0, count);
            return;
        }
        int size = (count + chunks - 1) / chunks;
        chunks = (count + size - 1) / size;
        _pool.Run(count, size, chunks, 0, body);
    }

    /// <summary>
    /// Runs <paramref name="body"/>(start, end) over [0, count) in guided chunks: each claim takes 1/<see cref="Threads"/>
    /// of what is left, rounded up to a multiple of <paramref name="grain"/>. The threads take big chunks first and ever
    /// smaller ones, so they finish within about one grain of each other with few claims (a pass that streams memory,
    /// as decode does, runs at half speed while one thread waits for the other).
    /// </summary>
    public void ForGuided(int count, int grain, Action<int, int> body)
    {
        if (count <= 0) return;
        grain = Math.Max(1, grain);
        if (_pool == null || count <= grain || !_pool.TryEnter())
        {
            body(0, count);
            return;
        }
        _pool.Run(count, grain, 0, Threads, body);
    }

    /// <summary>The workers and the state of the call in progress; workers reference this, never the runner.</summary>
    private sealed class Pool
    {
        private static readonly long SpinTicks = Stopwatch.Frequency / 5000; // idle workers spin about 200 µs

        private readonly object _gate = new();
        private int _busy;           // 1 while a call owns the pool
        private int _generation;     // incremented per call; workers run each generation once
        private int _sleepers;       // workers blocked in Monitor.Wait (under _gate)
        private volatile bool _shutdown;

        // The call in progress.
        private Action<int, int>? _body;
        private int _count, _size, _chunks, _guided;
        private int _next;           // next chunk to claim (guided: next item)
        private int _pending;        // workers that have not finished this generation
        private Exception? _error;

        public Pool(int workers)
        {
            for (int i = 0; i < workers; i++)
            {
                var thread = new Thread(Work) { IsBackground = true, Name = $"cairn-worker-{i + 1}" };
                thread.Start();
            }
            WorkerCount = workers;
        }

        private int WorkerCount { get; }

        public bool TryEnter() => Interlocked.CompareExchange(ref _busy, 1, 0) == 0;

        /// <summary>Chunks of <paramref name="size"/> items, or guided chunks of grain <paramref name="size"/> when <paramref name="guided"/> (the divisor) is not 0.</summary>
        public void Run(int count, int size, int chunks, int guided, Action<int, int> body)
        {
            try
            {
                _body = body;
                _count = count;
                _size = size;
                _chunks = chunks;
                _guided = guided;
                _next = 0;
                _error = null;
                Volatile.Write(ref _pending, WorkerCount);
                lock (_gate)
                {
                    Volatile.Write(ref _generation, _generation + 1); // publishes the fields above
                    if (_sleepers > 0) Monitor.PulseAll(_gate);
                }

                RunChunks();

                var spin = new SpinWait();
                while (Volatile.Read(ref _pending) != 0) spin.SpinOnce(sleep1Threshold: -1);
                _body = null;
                if (_error is { } e) throw new AggregateException(e);
            }
            finally
            {
                Volatile.Write(ref _busy, 0);
            }
        }

        public void Shutdown()
        {
            _shutdown = true;
            lock (_gate) Monitor.PulseAll(_gate);
        }

        private void RunChunks()
        {
            Action<int, int> body = _body!;
            int count = _count, size = _size, chunks = _chunks, guided = _guided;
            try
            {
                if (guided != 0)
                {
                    for (int start = Volatile.Read(ref _next); start < count; start = Volatile.Read(ref _next))
                    {
                        int left = count - start;
                        int take = Math.Min(left, ((left + guided - 1) / guided + size - 1) / size * size);
                        if (Interlocked.CompareExchange(ref _next, start + take, start) == start) body(start, start + take);
                    }
                    return;
                }
                for (int c; (c = Interlocked.Increment(ref _next) - 1) < chunks;)
                    body(c * size, Math.Min(count, (c + 1) * size));
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, e, null);
                Volatile.Write(ref _next, guided != 0 ? count : chunks); // the others stop claiming
            }
        }

        private void Work()
        {
            int seen = 0;
            while (true)
            {
                // Spin briefly for the next call (decode issues one every few microseconds), then sleep.
                long until = Stopwatch.GetTimestamp() + SpinTicks;
                var spin = new SpinWait();
                while (Volatile.Read(ref _generation) == seen && !_shutdown && Stopwatch.GetTimestamp() < until)
                    spin.SpinOnce(sleep1Threshold: -1);
                if (Volatile.Read(ref _generation) == seen && !_shutdown)
                {
                    lock (_gate)
                    {
                        while (_generation == seen && !_shutdown)
                        {
                            _sleepers++;
                            Monitor.Wait(_gate);
                            _sleepers--;
                        }
                    }
                }
                if (_shutdown) return;
                seen = Volatile.Read(ref _generation);
                RunChunks();
                Interlocked.Decrement(ref _pending);
            }
        }
    }
}
