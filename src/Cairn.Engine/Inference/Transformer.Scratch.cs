using System.Runtime.CompilerServices;
using Cairn.Engine.Kernels;
using Cairn.Engine.Models;

namespace Cairn.Engine.Inference;

public sealed partial class Transformer
{
    /// <summary>
    /// Batches of up to this many tokens (decode, small continuous batches) reuse one set of buffers kept by the
    /// transformer, so the token loop allocates nothing; larger batches (prefill chunks) get buffers of their own for
    /// the call, so that a long prompt does not keep its memory afterwards.
    /// </summary>
    private const int KeptScratchTokens = 64;

    private Scratch? _kept; // taken by a call and put back after; a concurrent call makes its own

    private Scratch TakeScratch(int n)
    {
        var s = n <= KeptScratchTokens ? Interlocked.Exchange(ref _kept, null) ?? new Scratch(this, KeptScratchTokens) : new Scratch(this, n);
        s.Prepare(n);
        return s;
    }

    private void ReturnScratch(Scratch s)
    {
        if (s.Capacity == KeptScratchTokens) Volatile.Write(ref _kept, s);
    }

    private static T[] Grow<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new T[length];
        return buffer;
    }

    /// <summary>
    /// Buffers of a forward pass for up to <see cref="Capacity"/> tokens, named as llama2.c names them, and the state of
    /// the parallel operation in progress, read by delegates made once (a lambda capturing locals would allocate a
    /// closure and a delegate per call). Used by one call at a time.
    /// </summary>
    private sealed class Scratch
    {
        private readonly Transformer _t;

        public Scratch(Transformer t, int capacity)
        {
            var c = t._c;
            _t = t;
            Capacity = capacity;
            X = new float[capacity * c.Dim];
            Xb = new float[capacity * c.Dim];
            Q = new float[capacity * c.QDim];
            K = new float[capacity * c.KvDim];
            V = new float[capacity * c.KvDim];
            Att = new float[capacity * c.QDim];
            Hb = new float[capacity * c.HiddenDim];
            Hb2 = new float[capacity * c.HiddenDim];
            Cos = new float[capacity * t._rope.Pairs];
            Sin = new float[capacity * t._rope.Pairs];
            XbBatch = new ActivationBatch(Xb, 0, c.Dim);
            AttBatch = new ActivationBatch(Att, 0, c.QDim);
            HbBatch = new ActivationBatch(Hb, 0, c.HiddenDim);
            NormedBatch = new ActivationBatch(Normed, 0, c.Dim);
            MatMulRowsBody = MatMulRows;
            MatMulTilesBody = MatMulTiles;
            QuantizeRowsBody = (start, end) => In!.QuantizeRows(start, end - start);
            LaneGroupsBody = (start, end) => In!.PrepareQ4_0LaneGroups(start, end - start);
            MatMulFloatBody = MatMulFloat;
            MatMulsBody = MatMulsRows;
            AttentionBody = AttentionUnits;
            GateUpSiluBody = GateUpSiluUnits;
        }

        public int Capacity { get; }
        public int N { get; private set; }
        public BatchItem[] Items { get; private set; } = [];

        public readonly float[] X;        // residual stream (tokens × dim)
        public readonly float[] Xb;       // normed input / block output
        public readonly float[] Q;
        public readonly float[] K;
        public readonly float[] V;
        public readonly float[] Att;      // attention output, heads concatenated
        public readonly float[] Hb;       // gate, then silu(gate) * up
        public readonly float[] Hb2;      // up
        public readonly float[] Cos;      // RoPE per token (tokens × pairs)
        public readonly float[] Sin;
        public readonly ActivationBatch XbBatch, AttBatch, HbBatch;

        // Output head: grown on need (rows = sequences).
        public float[] Last = [];
        public float[] Normed = [];
        public float[] Logits = [];
        public int[] LastRows = [];
        public ActivationBatch NormedBatch;

        // The operation in progress.
        public Weight? W;
        public ActivationBatch? In;
        public float[]? Out;
        public bool Quantized;
        /// <summary>Prefill of Q4_0 weights: the input batch is in token lanes (<see cref="ActivationBatch.EnsureQ4_0Lanes"/>).</summary>
        public bool Lanes;
        public readonly Weight?[] PartW = new Weight?[3];
        public readonly float[]?[] PartY = new float[]?[3];
        public int Parts;
        public int AttLayer;
        public readonly Action<int, int> MatMulRowsBody, MatMulTilesBody, MatMulFloatBody, MatMulsBody, AttentionBody, GateUpSiluBody;
        public readonly Action<int, int> QuantizeRowsBody, LaneGroupsBody;

        public void Prepare(int n)
        {
            N = n;
            if (n > 0 && Items.Length != n) Items = new BatchItem[n];
            XbBatch.Reset(n);
            AttBatch.Reset(n);
            HbBatch.Reset(n);
        }

        /// <summary>The output head's input for <paramref name="rows"/> rows (grown on need).</summary>
        public ActivationBatch NormedFor(int rows)
        {
            int dim = _t._c.Dim;
            if (Normed.Length < rows * dim)
            {
                Normed = new float[rows * dim];
                NormedBatch = new ActivationBatch(Normed, 0, dim);
            }
            NormedBatch.Reset(rows);
            return NormedBatch;
        }

        public void Clear()
        {
            W = null;
            In = null;
            Out = null;
            Array.Clear(PartW);
            Array.Clear(PartY);
        }

        /// <summary>Decode: one input vector, its spans taken once rather than per row.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void MatMulRows(int start, int end)
        {
            var w = W!;
            var x = In!;
            bool quantized = Quantized;
            ReadOnlySpan<float> xf = quantized ? default : x.Row(0);
            ReadOnlySpan<sbyte> xq = quantized ? x.Quantized(0) : default;
            ReadOnlySpan<float> xs = quantized ? x.Scales(0) : default;
            ReadOnlySpan<int> xsum = quantized ? x.Sums(0) : default;
            RowDot.ComputeRows(w.Type, RowRange(w, start, end - start), end - start, w.Cols, xf, xq, xs, xsum, Out.AsSpan(start, end - start));
        }

        /// <summary>Prefill: tiles of rows × tokens (each (row, token) sum in RowDot's order); start and end count units of <see cref="TileRows"/> rows.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void MatMulTiles(int unitStart, int unitEnd)
        {
            var w = W!;
            var x = In!;
            int start = unitStart * TileRows, end = Math.Min(w.Rows, unitEnd * TileRows);
            if (Lanes)
            {
                RowDot.ComputeRowsTokensQ4_0(RowRange(w, start, end - start), end - start, w.Cols, x.Count, x.Q4_0Lanes, Out.AsSpan(start), w.Rows);
                return;
            }

            RowDot.ComputeRowsTokens(w.Type, RowRange(w, start, end - start), end - start, w.Cols, x.Count,
                                     x.QuantizedAll, x.ScalesAll, x.SumsAll, Out.AsSpan(start), w.Rows);
        }

        /// <summary>Float weights: each row converted once for all tokens (each (row, token) sum in RowDot's order).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void MatMulFloat(int start, int end)
        {
            var w = W!;
            var x = In!;
            RowDot.ComputeRowsTokensFloat(w.Type, RowRange(w, start, end - start), end - start, w.Cols, x.Count,
                                          x.Data.AsSpan(0, x.Count * w.Cols), Out.AsSpan(start), w.Rows);
        }

        /// <summary>Several weights' rows in one pass, in units of <see cref="MatMulsUnit"/> rows (one input vector).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void MatMulsRows(int start, int end)
        {
            var x = In!;
            int p = 0, first = 0;
            for (int u = start; u < end;)
            {
                var w = PartW[p]!;
                var y = PartY[p]!;
                int count = (w.Rows + MatMulsUnit - 1) / MatMulsUnit;
                if (u >= first + count)
                {
                    first += count;
                    p++;
                    continue;
                }
                int stop = Math.Min(end, first + count);
                int r0 = (u - first) * MatMulsUnit, r1 = Math.Min(w.Rows, (stop - first) * MatMulsUnit);
                bool quantized = RowDot.NeedsQuantizedActivation(w.Type);
                RowDot.ComputeRows(w.Type, RowRange(w, r0, r1 - r0), r1 - r0, w.Cols, quantized ? default : x.Row(0),
                                   quantized ? x.Quantized(0) : default, quantized ? x.Scales(0) : default, quantized ? x.Sums(0) : default,
                                   y.AsSpan(r0, r1 - r0));
                u = stop;
            }
        }

        /// <summary>Units of 32 gate and up rows, their silu(gate) · up and its Q8 block: see <see cref="Transformer.GateUpSilu"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void GateUpSiluUnits(int start, int end)
        {
            var x = In!;
            Weight gate = PartW[0]!, up = PartW[1]!;
            const int B = ActivationQuantizer.BlockSize;
            int r0 = start * B, rows = (end - start) * B;
            ReadOnlySpan<sbyte> xq = x.Quantized(0);
            ReadOnlySpan<float> xs = x.Scales(0);
            ReadOnlySpan<int> xsum = x.Sums(0);
            RowDot.ComputeRows(gate.Type, RowRange(gate, r0, rows), rows, gate.Cols, default, xq, xs, xsum, Hb.AsSpan(r0, rows));
            RowDot.ComputeRows(up.Type, RowRange(up, r0, rows), rows, up.Cols, default, xq, xs, xsum, Hb2.AsSpan(r0, rows));
            DetMath.SiluMul(Hb.AsSpan(r0, rows), Hb2.AsSpan(r0, rows));
            HbBatch.QuantizeBlocks(start, end - start);
        }

        /// <summary>Attention units (item, head) of layer <see cref="AttLayer"/>: see <see cref="Transformer.Attention"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void AttentionUnits(int start, int end)
        {
            var c = _t._c;
            int heads = c.Heads, headDim = c.HeadDim, qDim = c.QDim, l = AttLayer;
            int group = heads / c.KvHeads;
            float scale = _t._attentionScale;
            var items = Items;
            for (int u = start; u < end; u++)
            {
                int i = u / heads, h = u % heads, kvh = h / group;
                var item = items[i];
                int len = item.Position + 1;
                var session = item.Session;
                var q = Q.AsSpan(i * qDim + h * headDim, headDim);
                float[] scores = ScoresBuffer(len);
                for (int t = 0; t < len; t++)
                    scores[t] = Dot.F32(q, session.Key(l, t).Slice(kvh * headDim, headDim)) * scale;
                Softmax.InPlace(scores.AsSpan(0, len));
                var o = Att.AsSpan(i * qDim + h * headDim, headDim);
                o.Clear();
                for (int t = 0; t < len; t++) Axpy.Apply(scores[t], session.Value(l, t).Slice(kvh * headDim, headDim), o);
            }
        }

        /// <summary>
        /// This thread's attention scores, at least <paramref name="length"/> long (grown to a power of two, never shrunk).
        /// Not the shared ArrayPool: it trims its buffers on full collections, so a decode step after one would allocate.
        /// </summary>
        private static float[] ScoresBuffer(int length)
        {
            if (t_scores is { } kept && kept.Length >= length) return kept;
            return t_scores = new float[(int)Math.Max(256, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)length))];
        }

        [ThreadStatic] private static float[]? t_scores;
    }
}
