using System.Runtime.CompilerServices;
using Cairn.Engine.Adapters;
using Cairn.Engine.Kernels;

namespace Cairn.Engine.Inference;

public sealed partial class Transformer
{
    /// <summary>Whether any item's session has adapters (otherwise the layer does no adapter work at all).</summary>
    private static bool AnyAdapters(BatchItem[] items)
    {
        foreach (var item in items)
        {
            if (item.Session.Adapters.Count != 0) return true;
        }
        return false;
    }

    /// <summary>
    /// Adds each session's LoRA updates of <paramref name="target"/> in layer <paramref name="l"/> to the base product
    /// <paramref name="y"/> (batch × rows), from the same input <paramref name="x"/> (batch × cols) in f32: for each run
    /// of consecutive items of one session, for each of its adapters in order, y += s·B·(A·x) in the order stated on
    /// <see cref="LoraAdapter"/>. Threads split (item, rank) pairs, then output rows; each value is one thread's
    /// <see cref="Dot.F32"/>, so no bit depends on threads, batching or the instruction set.
    /// </summary>
    private void ApplyAdapters(int l, LoraTarget target, BatchItem[] items, float[] x, int cols, float[] y, int rows)
    {
        for (int start = 0; start < items.Length;)
        {
            var session = items[start].Session;
            int end = start + 1;
            while (end < items.Length && items[end].Session == session) end++;
            foreach (var adapter in session.Adapters)
            {
                var pair = adapter.Find(l, target);
                if (pair != null) ApplyPair(pair, x, cols, y, rows, start, end);
            }
            start = end;
        }
    }

    private void ApplyPair(LoraPair p, float[] x, int cols, float[] y, int rows, int start, int end)
    {
        int n = end - start, r = p.Rank;
        var u = new float[n * r];
        _parallel.For(n * r, 16, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (s0, s1) =>
        {
            for (int w = s0; w < s1; w++)
            {
                int i = w / r, k = w % r;
                u[w] = Dot.F32(p.A.AsSpan(k * cols, cols), x.AsSpan((start + i) * cols, cols));
            }
        });
        float scale = p.Scale;
        _parallel.For(rows, 16, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (j0, j1) =>
        {
            for (int j = j0; j < j1; j++)
            {
                var bj = p.B.AsSpan(j * r, r);
                for (int i = 0; i < n; i++)
                {
                    float d = Dot.F32(bj, u.AsSpan(i * r, r));
                    float delta = scale * d;
                    ref float yj = ref y[(start + i) * rows + j];
                    yj += delta;
                }
            }
        });
    }
}
