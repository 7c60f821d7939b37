using System.Buffers;
using System.Runtime.CompilerServices;
using Cairn.Engine.Adapters;
using Cairn.Engine.Kernels;
using Cairn.Engine.Models;

namespace Cairn.Engine.Inference;

public sealed partial class Transformer
{
    /// <summary>
    /// Runs layers [<paramref name="from"/>, <paramref name="to"/>) on <paramref name="hidden"/> (batch × dim) in place.
    /// Each item's K and V are written to its session's cache at its position; an item attends to positions
    /// 0..position of its session. Items of one session must come in increasing position order.
    /// </summary>
    public void RunLayers(int from, int to, ReadOnlySpan<BatchItem> batch, Span<float> hidden)
    {
        if (from < 0 || to > _c.Layers || from > to)
            throw new ArgumentOutOfRangeException(nameof(from), $"layer range [{from}, {to}) is not within [0, {_c.Layers})");
        int n = batch.Length, dim = _c.Dim;
        if (n > MaxBatchTokens) throw new ArgumentException($"a batch holds at most {MaxBatchTokens} tokens, got {n}; split it", nameof(batch));
        if (hidden.Length != n * dim) throw new ArgumentException($"hidden holds {hidden.Length} floats, the batch needs {n} × {dim}", nameof(hidden));
        foreach (var item in batch)
        {
            if ((uint)item.Position >= (uint)item.Session.Capacity)
                throw new ArgumentOutOfRangeException(nameof(batch), $"position {item.Position} is outside the session's capacity of {item.Session.Capacity}");
        }
        if (n == 0) return;

        var items = batch.ToArray();
        var s = new Scratch(n, _c);
        hidden.CopyTo(s.X);
        var cos = new float[n * _rope.Pairs];
        var sin = new float[n * _rope.Pairs];
        for (int i = 0; i < n; i++) _rope.Compute(items[i].Position, cos.AsSpan(i * _rope.Pairs, _rope.Pairs), sin.AsSpan(i * _rope.Pairs, _rope.Pairs));

        for (int l = from; l < to; l++)
        {
            if (!Skips(l)) Layer(l, items, s, cos, sin);
            for (int i = 0; i < n; i++) items[i].Session.Trace?.Record(items[i].Position, l, s.X.AsSpan(i * dim, dim));
        }
        s.X.AsSpan(0, n * dim).CopyTo(hidden);
    }

    private void Layer(int l, BatchItem[] items, Scratch s, float[] cos, float[] sin)
    {
        var w = _model.Layer(l);
        int n = items.Length, dim = _c.Dim, qDim = _c.QDim, kvDim = _c.KvDim, pairs = _rope.Pairs;

        // Attention block: xb = rmsnorm(x) · attn_norm; q, k, v = xb · W (+ bias); rope(q, k); cache k, v.
        for (int i = 0; i < n; i++) RmsNorm.Apply(s.X.AsSpan(i * dim, dim), w.AttnNorm, _c.RmsEps, s.Xb.AsSpan(i * dim, dim));
        var xb = new ActivationBatch(s.Xb, n, dim);
        MatMuls(xb, (w.Wq, s.Q), (w.Wk, s.K), (w.Wv, s.V));
        bool adapted = AnyAdapters(items);
        if (adapted)
        {
            ApplyAdapters(l, LoraTarget.AttnQ, items, s.Xb, dim, s.Q, qDim);
            ApplyAdapters(l, LoraTarget.AttnK, items, s.Xb, dim, s.K, kvDim);
            ApplyAdapters(l, LoraTarget.AttnV, items, s.Xb, dim, s.V, kvDim);
        }
        for (int i = 0; i < n; i++)
        {
            if (w.Bq != null) AddInPlace(s.Q.AsSpan(i * qDim, qDim), w.Bq);
            if (w.Bk != null) AddInPlace(s.K.AsSpan(i * kvDim, kvDim), w.Bk);
            if (w.Bv != null) AddInPlace(s.V.AsSpan(i * kvDim, kvDim), w.Bv);
            _rope.Apply(s.Q.AsSpan(i * qDim, qDim), _c.Heads, cos.AsSpan(i * pairs, pairs), sin.AsSpan(i * pairs, pairs));
            _rope.Apply(s.K.AsSpan(i * kvDim, kvDim), _c.KvHeads, cos.AsSpan(i * pairs, pairs), sin.AsSpan(i * pairs, pairs));
            var session = items[i].Session;
            int pos = items[i].Position;
            s.K.AsSpan(i * kvDim, kvDim).CopyTo(session.Key(l, pos));
            s.V.AsSpan(i * kvDim, kvDim).CopyTo(session.Value(l, pos));
            session.MarkFilled(l, pos);
        }

        Attention(l, items, s);

        // x += att · Wo
        MatMul(w.Wo, new ActivationBatch(s.Att, n, qDim), s.Xb);
        if (adapted) ApplyAdapters(l, LoraTarget.AttnOutput, items, s.Att, qDim, s.Xb, dim);
        AddInPlace(s.X.AsSpan(0, n * dim), s.Xb.AsSpan(0, n * dim));

        // Feed-forward block: x += down(silu(gate(xb)) * up(xb)), xb = rmsnorm(x) · ffn_norm.
        for (int i = 0; i < n; i++) RmsNorm.Apply(s.X.AsSpan(i * dim, dim), w.FfnNorm, _c.RmsEps, s.Xb.AsSpan(i * dim, dim));
        xb = new ActivationBatch(s.Xb, n, dim);
        MatMuls(xb, (w.Gate, s.Hb), (w.Up, s.Hb2));
        if (adapted)
        {
            ApplyAdapters(l, LoraTarget.FfnGate, items, s.Xb, dim, s.Hb, _c.HiddenDim);
            ApplyAdapters(l, LoraTarget.FfnUp, items, s.Xb, dim, s.Hb2, _c.HiddenDim);
        }
        DetMath.SiluMul(s.Hb.AsSpan(0, n * _c.HiddenDim), s.Hb2.AsSpan(0, n * _c.HiddenDim));
        MatMul(w.Down, new ActivationBatch(s.Hb, n, _c.HiddenDim), s.Xb);
        if (adapted) ApplyAdapters(l, LoraTarget.FfnDown, items, s.Hb, _c.HiddenDim, s.Xb, dim);
        AddInPlace(s.X.AsSpan(0, n * dim), s.Xb.AsSpan(0, n * dim));
    }

    /// <summary>
    /// Causal self-attention, one (item, head) per work unit: scores in increasing position order, softmax with the
    /// maximum subtracted first, then the weighted sum of V rows visited in increasing position order (rule 5).
    /// </summary>
    private void Attention(int l, BatchItem[] items, Scratch s)
    {
        int heads = _c.Heads, headDim = _c.HeadDim, kvDim = _c.KvDim, qDim = _c.QDim;
        int group = heads / _c.KvHeads;
        _parallel.For(items.Length * heads, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            for (int u = start; u < end; u++)
            {
                int i = u / heads, h = u % heads, kvh = h / group;
                var item = items[i];
                int len = item.Position + 1;
                var session = item.Session;
                var q = s.Q.AsSpan(i * qDim + h * headDim, headDim);
                float[] scores = ArrayPool<float>.Shared.Rent(len);
                try
                {
                    for (int t = 0; t < len; t++)
                        scores[t] = Dot.F32(q, session.Key(l, t).Slice(kvh * headDim, headDim)) * _attentionScale;
                    Softmax.InPlace(scores.AsSpan(0, len));
                    var o = s.Att.AsSpan(i * qDim + h * headDim, headDim);
                    o.Clear();
                    for (int t = 0; t < len; t++) Axpy.Apply(scores[t], session.Value(l, t).Slice(kvh * headDim, headDim), o);
                }
                finally
                {
                    ArrayPool<float>.Shared.Return(scores);
                }
            }
        });
    }

    /// <summary>
    /// <see cref="MatMul"/> for several weights that read the same input. For one token (decode) they run as one
    /// parallel pass over all their rows, so the threads meet once rather than once per weight; every output is the
    /// same <see cref="RowDot.ComputeRows"/> sum either way.
    /// </summary>
    private void MatMuls(ActivationBatch x, params (Weight W, float[] Y)[] parts)
    {
        if (x.Count != 1)
        {
            foreach (var (w, y) in parts) MatMul(w, x, y);
            return;
        }
        const int Unit = 64; // rows per work unit
        int units = 0;
        foreach (var (w, _) in parts)
        {
            if (x.Width != w.Cols) throw new InvalidOperationException($"{w.Name} takes {w.Cols} inputs, got {x.Width}");
            if (RowDot.NeedsQuantizedActivation(w.Type)) x.EnsureQuantized();
            units += (w.Rows + Unit - 1) / Unit;
        }
        _parallel.For(units, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            int p = 0, first = 0;
            for (int u = start; u < end;)
            {
                var (w, y) = parts[p];
                int count = (w.Rows + Unit - 1) / Unit;
                if (u >= first + count)
                {
                    first += count;
                    p++;
                    continue;
                }
                int stop = Math.Min(end, first + count);
                int r0 = (u - first) * Unit, r1 = Math.Min(w.Rows, (stop - first) * Unit);
                bool quantized = RowDot.NeedsQuantizedActivation(w.Type);
                RowDot.ComputeRows(w.Type, RowRange(w, r0, r1 - r0), r1 - r0, w.Cols, quantized ? default : x.Row(0),
                                   quantized ? x.Quantized(0) : default, quantized ? x.Scales(0) : default, quantized ? x.Sums(0) : default,
                                   y.AsSpan(r0, r1 - r0));
                u = stop;
            }
        });
    }

    /// <summary>y (batch × rows) = x (batch × cols) · Wᵀ; threads split the rows, each y element is one <see cref="RowDot"/>.</summary>
    private void MatMul(Weight w, ActivationBatch x, float[] y)
    {
        if (x.Width != w.Cols) throw new InvalidOperationException($"{w.Name} takes {w.Cols} inputs, got {x.Width}");
        bool quantized = RowDot.NeedsQuantizedActivation(w.Type);
        if (quantized) x.EnsureQuantized();
        int rows = w.Rows, n = x.Count;
        if (n == 1)
        {
            // Decode: one input vector, its spans taken once rather than per row.
            _parallel.For(rows, 16, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
            {
                ReadOnlySpan<float> xf = quantized ? default : x.Row(0);
                ReadOnlySpan<sbyte> xq = quantized ? x.Quantized(0) : default;
                ReadOnlySpan<float> xs = quantized ? x.Scales(0) : default;
                ReadOnlySpan<int> xsum = quantized ? x.Sums(0) : default;
                RowDot.ComputeRows(w.Type, RowRange(w, start, end - start), end - start, w.Cols, xf, xq, xs, xsum, y.AsSpan(start, end - start));
            });
            return;
        }
        if (quantized)
        {
            // Prefill: tiles of rows × tokens (each (row, token) sum in RowDot's order).
            _parallel.For(rows, 4, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
                RowDot.ComputeRowsTokens(w.Type, RowRange(w, start, end - start), end - start, w.Cols, n,
                                         x.QuantizedAll, x.ScalesAll, x.SumsAll, y.AsSpan(start), rows));
            return;
        }
        // Float weights: each row converted once for all tokens (each (row, token) sum in RowDot's order).
        _parallel.For(rows, 4, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
            RowDot.ComputeRowsTokensFloat(w.Type, RowRange(w, start, end - start), end - start, w.Cols, n, x.Data.AsSpan(0, n * w.Cols), y.AsSpan(start), rows));
    }

    /// <summary>Rows [start, start + count) of <paramref name="w"/> as one span.</summary>
    private static unsafe ReadOnlySpan<byte> RowRange(Weight w, int start, int count) =>
        new(w.Data + w.RowBytes * start, checked((int)(w.RowBytes * count)));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddInPlace(Span<float> x, ReadOnlySpan<float> y)
    {
        for (int i = 0; i < x.Length; i++) x[i] += y[i];
    }

    /// <summary>Per-call buffers, named as llama2.c names them.</summary>
    private sealed class Scratch(int n, ModelConfig c)
    {
        public readonly float[] X = new float[n * c.Dim];           // residual stream
        public readonly float[] Xb = new float[n * c.Dim];          // normed input / block output
        public readonly float[] Q = new float[n * c.QDim];
        public readonly float[] K = new float[n * c.KvDim];
        public readonly float[] V = new float[n * c.KvDim];
        public readonly float[] Att = new float[n * c.QDim];        // attention output, heads concatenated
        public readonly float[] Hb = new float[n * c.HiddenDim];    // gate, then silu(gate) * up
        public readonly float[] Hb2 = new float[n * c.HiddenDim];   // up
    }
}
