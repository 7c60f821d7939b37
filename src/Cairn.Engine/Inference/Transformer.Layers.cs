using System.Buffers;
using System.Runtime.CompilerServices;
using Cairn.Engine.Adapters;
using Cairn.Engine.Kernels;
using Cairn.Engine.Models;
using Cairn.Engine.Tensors;

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

        var s = TakeScratch(n);
        try
        {
            batch.CopyTo(s.Items);
            hidden.CopyTo(s.X);
            RunLayers(from, to, s);
            s.X.AsSpan(0, n * dim).CopyTo(hidden);
        }
        finally
        {
            s.Clear();
            ReturnScratch(s);
        }
    }

    /// <summary>Layers [from, to) on the residual stream <c>s.X</c> of the items <c>s.Items</c>, in place.</summary>
    private void RunLayers(int from, int to, Scratch s)
    {
        int n = s.N, dim = _c.Dim, pairs = _rope.Pairs;
        var items = s.Items;
        for (int i = 0; i < n; i++) _rope.Compute(items[i].Position, s.Cos.AsSpan(i * pairs, pairs), s.Sin.AsSpan(i * pairs, pairs));

        for (int l = from; l < to; l++)
        {
            if (!Skips(l)) Layer(l, s);
            for (int i = 0; i < n; i++) items[i].Session.Trace?.Record(items[i].Position, l, s.X.AsSpan(i * dim, dim));
        }
    }

    private void Layer(int l, Scratch s)
    {
        var w = _model.Layer(l);
        var items = s.Items;
        float[] cos = s.Cos, sin = s.Sin;
        int n = items.Length, dim = _c.Dim, qDim = _c.QDim, kvDim = _c.KvDim, pairs = _rope.Pairs;

        // Attention block: xb = rmsnorm(x) · attn_norm; q, k, v = xb · W (+ bias); rope(q, k); cache k, v.
        for (int i = 0; i < n; i++) RmsNorm.Apply(s.X.AsSpan(i * dim, dim), w.AttnNorm, _c.RmsEps, s.Xb.AsSpan(i * dim, dim));
        s.XbBatch.Invalidate();
        MatMuls(s, s.XbBatch, w.Wq, s.Q, w.Wk, s.K, w.Wv, s.V);
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

        Attention(l, s);

        // x += att · Wo
        s.AttBatch.Invalidate();
        MatMul(s, w.Wo, s.AttBatch, s.Xb);
        if (adapted) ApplyAdapters(l, LoraTarget.AttnOutput, items, s.Att, qDim, s.Xb, dim);
        AddInPlace(s.X.AsSpan(0, n * dim), s.Xb.AsSpan(0, n * dim));

        // Feed-forward block: x += down(silu(gate(xb)) * up(xb)), xb = rmsnorm(x) · ffn_norm.
        for (int i = 0; i < n; i++) RmsNorm.Apply(s.X.AsSpan(i * dim, dim), w.FfnNorm, _c.RmsEps, s.Xb.AsSpan(i * dim, dim));
        s.XbBatch.Invalidate();
        if (n != 1 || adapted || !GateUpSilu(s, w.Gate, w.Up))
        {
            MatMuls(s, s.XbBatch, w.Gate, s.Hb, w.Up, s.Hb2, null, null);
            if (adapted)
            {
                ApplyAdapters(l, LoraTarget.FfnGate, items, s.Xb, dim, s.Hb, _c.HiddenDim);
                ApplyAdapters(l, LoraTarget.FfnUp, items, s.Xb, dim, s.Hb2, _c.HiddenDim);
            }
            DetMath.SiluMul(s.Hb.AsSpan(0, n * _c.HiddenDim), s.Hb2.AsSpan(0, n * _c.HiddenDim));
            s.HbBatch.Invalidate();
        }
        MatMul(s, w.Down, s.HbBatch, s.Xb);
        if (adapted) ApplyAdapters(l, LoraTarget.FfnDown, items, s.Hb, _c.HiddenDim, s.Xb, dim);
        AddInPlace(s.X.AsSpan(0, n * dim), s.Xb.AsSpan(0, n * dim));
    }

    /// <summary>
    /// Causal self-attention, one (item, head) per work unit: scores in increasing position order, softmax with the
    /// maximum subtracted first, then the weighted sum of V rows visited in increasing position order (rule 5).
    /// </summary>
    private void Attention(int l, Scratch s)
    {
        s.AttLayer = l;
        _parallel.For(s.Items.Length * _c.Heads, 1, s.AttentionBody);
    }

    private const int MatMulsUnit = 16; // rows per work unit of MatMuls (guided chunks end within a unit of each other)

    /// <summary>
    /// Rows per work unit of a prefill matrix product: a multiple of the tiles' 4 rows, so only the last unit has a tail.
    /// Chunks are at least 4 units (64 rows: each call recomputes the activation's group sums, about 2 % of a 64-row
    /// chunk's time at 2048 columns) and up to 16 per thread.
    /// </summary>
    private const int TileRows = 16;

    /// <summary>
    /// <see cref="MatMul"/> for several weights that read the same input (the third may be absent). For one token
    /// (decode) they run as one parallel pass over all their rows, so the threads meet once rather than once per
    /// weight; every output is the same <see cref="RowDot.ComputeRows"/> sum either way.
    /// </summary>
    private void MatMuls(Scratch s, ActivationBatch x, Weight w0, float[] y0, Weight w1, float[] y1, Weight? w2, float[]? y2)
    {
        s.PartW[0] = w0;
        s.PartY[0] = y0;
        s.PartW[1] = w1;
        s.PartY[1] = y1;
        s.PartW[2] = w2;
        s.PartY[2] = y2;
        s.Parts = w2 is null ? 2 : 3;
        if (x.Count != 1)
        {
            for (int p = 0; p < s.Parts; p++) MatMul(s, s.PartW[p]!, x, s.PartY[p]!);
            return;
        }
        int units = 0;
        for (int p = 0; p < s.Parts; p++)
        {
            var w = s.PartW[p]!;
            if (x.Width != w.Cols) throw new InvalidOperationException($"{w.Name} takes {w.Cols} inputs, got {x.Width}");
            if (RowDot.NeedsQuantizedActivation(w.Type)) x.EnsureQuantized();
            units += (w.Rows + MatMulsUnit - 1) / MatMulsUnit;
        }
        s.In = x;
        _parallel.ForGuided(units, 1, s.MatMulsBody);
    }

    /// <summary>
    /// Decode's feed-forward input in one pass: each work unit of 32 rows computes those gate and up rows, silu(gate) · up
    /// for them, and the Q8 block they form, so the threads do not wait while one of them runs the activation and its
    /// quantization over the whole vector. Each element and block is the same function of the same inputs as in the
    /// unfused path. False (nothing done) for weights that do not read a quantized activation.
    /// </summary>
    private bool GateUpSilu(Scratch s, Weight gate, Weight up)
    {
        if (!RowDot.NeedsQuantizedActivation(gate.Type) || !RowDot.NeedsQuantizedActivation(up.Type)
            || gate.Rows != up.Rows || gate.Rows != _c.HiddenDim || gate.Rows % ActivationQuantizer.BlockSize != 0) return false;
        var x = s.XbBatch;
        if (x.Width != gate.Cols || x.Width != up.Cols) throw new InvalidOperationException($"{gate.Name} and {up.Name} take {gate.Cols} and {up.Cols} inputs, got {x.Width}");
        x.EnsureQuantized();
        s.HbBatch.Invalidate();
        s.HbBatch.EnsureBuffers();
        s.PartW[0] = gate;
        s.PartW[1] = up;
        s.In = x;
        _parallel.ForGuided(gate.Rows / ActivationQuantizer.BlockSize, 1, s.GateUpSiluBody);
        s.HbBatch.MarkQuantized();
        return true;
    }

    /// <summary>y (batch × rows) = x (batch × cols) · Wᵀ; threads split the rows, each y element is one <see cref="RowDot"/>.</summary>
    private void MatMul(Scratch s, Weight w, ActivationBatch x, float[] y)
    {
        if (x.Width != w.Cols) throw new InvalidOperationException($"{w.Name} takes {w.Cols} inputs, got {x.Width}");
        bool quantized = RowDot.NeedsQuantizedActivation(w.Type);
        if (quantized) Quantize(s, x);
        s.Lanes = quantized && x.Count > 1 && w.Type == GgmlType.Q4_0 && RowDot.Q4_0TokenLanesSupported;
        if (s.Lanes && !x.HasQ4_0Lanes)
        {
            // Prefill: the threads split the layout by 8-token groups, as they split the quantization by tokens.
            x.EnsureLaneBuffer();
            s.In = x;
            _parallel.For((x.Count + 7) / 8, 1, s.LaneGroupsBody, chunksPerThread: 1);
            x.MarkQ4_0Lanes();
        }
        s.W = w;
        s.In = x;
        s.Out = y;
        s.Quantized = quantized;
        if (x.Count == 1) _parallel.ForGuided(w.Rows, 16, s.MatMulRowsBody);
        else if (quantized) _parallel.For((w.Rows + TileRows - 1) / TileRows, 4, s.MatMulTilesBody, chunksPerThread: 16);
        else _parallel.For(w.Rows, 4, s.MatMulFloatBody);
    }

    /// <summary>
    /// <see cref="ActivationBatch.EnsureQuantized"/>, with the tokens of a batch split between the threads (each token's
    /// blocks are the same function of its own row either way); one token is quantized on the calling thread.
    /// </summary>
    private void Quantize(Scratch s, ActivationBatch x)
    {
        if (x.Count <= 1 || x.IsQuantized)
        {
            x.EnsureQuantized();
            return;
        }
        x.EnsureBuffers();
        s.In = x;
        _parallel.For(x.Count, 1, s.QuantizeRowsBody, chunksPerThread: 1);
        x.MarkQuantized();
    }

    /// <summary>Rows [start, start + count) of <paramref name="w"/> as one span.</summary>
    private static unsafe ReadOnlySpan<byte> RowRange(Weight w, int start, int count) =>
        new(w.Data + w.RowBytes * start, checked((int)(w.RowBytes * count)));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddInPlace(Span<float> x, ReadOnlySpan<float> y)
    {
        for (int i = 0; i < x.Length; i++) x[i] += y[i];
    }
}
