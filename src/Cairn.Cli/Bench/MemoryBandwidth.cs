using System.Diagnostics;
using System.Runtime.Intrinsics;

namespace Cairn.Cli.Bench;

/// <summary>
/// The machine's memory read bandwidth, for the decode limit of <c>cairn bench --bandwidth</c>: every thread reads its
/// share of a buffer far larger than the caches with the widest vector loads the JIT offers (4 independent streams),
/// all threads started together; the best of several passes counts. Written here because no package measures this
/// (STREAM-like tools are C programs); it is a measurement loop, not part of inference.
/// </summary>
internal static class MemoryBandwidth
{
    public const long DefaultBufferBytes = 1L << 30;

    /// <summary>Bytes per second read by <paramref name="threads"/> threads (best of <paramref name="passes"/>).</summary>
    public static double Measure(int threads, int passes = 7, long bufferBytes = DefaultBufferBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferBytes, 1L << 20);
        var buffer = new long[bufferBytes / sizeof(long)];
        // Write every page first (an untouched page reads as the shared zero page, which is not a memory read).
        for (long i = 0; i < buffer.LongLength; i += 512) buffer[i] = i;
        long share = buffer.LongLength / threads / 32 * 32; // elements, a multiple of 4 × 512 bits
        double best = 0;
        for (int pass = 0; pass < passes; pass++)
        {
            using var start = new Barrier(threads + 1);
            var workers = new Thread[threads];
            long sink = 0;
            for (int t = 0; t < threads; t++)
            {
                long from = t * share;
                workers[t] = new Thread(() =>
                {
                    start.SignalAndWait();
                    Interlocked.Add(ref sink, Read(buffer, from, share));
                }) { IsBackground = true };
                workers[t].Start();
            }
            start.SignalAndWait();
            long begin = Stopwatch.GetTimestamp();
            foreach (var w in workers) w.Join();
            double seconds = Stopwatch.GetElapsedTime(begin).TotalSeconds;
            GC.KeepAlive(sink);
            best = Math.Max(best, share * threads * sizeof(long) / seconds);
        }
        return best;
    }

    /// <summary>XORs <paramref name="count"/> elements (a multiple of 32) in four streams so that the loads are not optimized away.</summary>
    private static long Read(long[] buffer, long from, long count)
    {
        ref long p = ref buffer[from];
        nuint n = (nuint)count;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<long> a = default, b = default, c = default, d = default;
            for (nuint i = 0; i < n; i += 32)
            {
                a ^= Vector512.LoadUnsafe(ref p, i);
                b ^= Vector512.LoadUnsafe(ref p, i + 8);
                c ^= Vector512.LoadUnsafe(ref p, i + 16);
                d ^= Vector512.LoadUnsafe(ref p, i + 24);
            }
            return Vector512.Sum(a ^ b ^ c ^ d);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<long> a = default, b = default, c = default, d = default;
            for (nuint i = 0; i < n; i += 16)
            {
                a ^= Vector256.LoadUnsafe(ref p, i);
                b ^= Vector256.LoadUnsafe(ref p, i + 4);
                c ^= Vector256.LoadUnsafe(ref p, i + 8);
                d ^= Vector256.LoadUnsafe(ref p, i + 12);
            }
            return Vector256.Sum(a ^ b ^ c ^ d);
        }
        Vector128<long> x = default, y = default;
        for (nuint i = 0; i < n; i += 4)
        {
            x ^= Vector128.LoadUnsafe(ref p, i);
            y ^= Vector128.LoadUnsafe(ref p, i + 2);
        }
        return Vector128.Sum(x ^ y);
    }
}
