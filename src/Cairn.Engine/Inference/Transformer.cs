using Cairn.Engine.Adapters;
using Cairn.Engine.Commitments;
using Cairn.Engine.Kernels;
using Cairn.Engine.Models;

namespace Cairn.Engine.Inference;

/// <summary>
/// The forward pass of a Llama-family model, split so that a model can be served in pieces:
/// <see cref="Embed"/> (tokens → hidden states), <see cref="RunLayers"/> (layers [from, to) on hidden states) and
/// <see cref="ComputeLogits"/> (final norm and output head). Any batch of tokens from any sessions can be run
/// together: every output element is computed by one thread in one fixed order, so the bits of a token's result
/// do not depend on its batch, the chunking of its prompt, the layer split or the thread count (DESIGN.md §3).
/// </summary>
public sealed partial class Transformer
{
    private readonly Model _model;
    private readonly ModelConfig _c;
    private readonly RopeTable _rope;
    private readonly ParallelRunner _parallel;
    private readonly float _attentionScale;

    public Transformer(Model model, int threads = 1)
    {
        _model = model;
        _c = model.Config;
        _rope = new RopeTable(_c, model.RopeFreqFactors);
        _parallel = new ParallelRunner(threads);
        _attentionScale = 1f / MathF.Sqrt(_c.HeadDim);
    }

    /// <summary>Prompt tokens per forward pass when the caller does not choose: bounds scratch memory for long prompts.</summary>
    public const int DefaultPrefillChunk = 512;

    /// <summary>Tokens in one batch at most (all sessions together); larger work must be split by the caller.</summary>
    public const int MaxBatchTokens = 4096;

    public Model Model => _model;
    public ModelConfig Config => _c;
    public int Threads => _parallel.Threads;

    /// <summary>
    /// A new sequence whose KV cache holds up to <paramref name="capacity"/> positions (default: the context length),
    /// with <paramref name="adapters"/> applied in order (each must fit the model).
    /// </summary>
    public Session CreateSession(int? capacity = null, bool trace = false, IReadOnlyList<LoraAdapter>? adapters = null)
    {
        int cap = capacity ?? _c.ContextLength;
        if (cap <= 0 || cap > _c.ContextLength)
            throw new ArgumentOutOfRangeException(nameof(capacity), $"capacity {cap} must be between 1 and the context length {_c.ContextLength}");
        foreach (var adapter in adapters ?? [])
        {
            if (adapter.Misfit(_c) is { } problem) throw new ArgumentException(problem, nameof(adapters));
        }
        return new Session(_c.Layers, _c.KvDim, cap, trace ? new TraceRecorder(_c.Layers) { Tamper = TraceTamper } : null,
                           adapters is { Count: > 0 } ? adapters.ToArray() : null);
    }

    /// <summary>Looks up the embeddings of <paramref name="tokens"/> into <paramref name="hidden"/> (tokens × dim).</summary>
    public void Embed(ReadOnlySpan<int> tokens, Span<float> hidden)
    {
        int dim = _c.Dim;
        if (hidden.Length < tokens.Length * dim) throw new ArgumentException("hidden is too small", nameof(hidden));
        for (int i = 0; i < tokens.Length; i++)
        {
            int t = tokens[i];
            if ((uint)t >= (uint)_c.VocabSize)
                throw new ArgumentOutOfRangeException(nameof(tokens), $"token id {t} is outside the vocabulary (0 to {_c.VocabSize - 1})");
            _model.TokenEmbedding.DequantizeRow(t, hidden.Slice(i * dim, dim));
        }
    }

    /// <summary>
    /// Processes <paramref name="tokens"/> at the session's next positions through all layers, advances the session,
    /// and writes the logits of the last token (vocab floats) to <paramref name="lastLogits"/> unless it is empty.
    /// Allocates nothing once warm for up to <see cref="KeptScratchTokens"/> tokens (the decode loop).
    /// </summary>
    public void Forward(Session session, ReadOnlySpan<int> tokens, Span<float> lastLogits)
    {
        if (tokens.IsEmpty) throw new ArgumentException("no tokens to process", nameof(tokens));
        if (!lastLogits.IsEmpty && lastLogits.Length < _c.VocabSize) throw new ArgumentException($"lastLogits holds {lastLogits.Length} floats, the vocabulary {_c.VocabSize}", nameof(lastLogits));
        int dim = _c.Dim;
        for (int offset = 0; offset < tokens.Length; offset += DefaultPrefillChunk)
        {
            var chunk = tokens.Slice(offset, Math.Min(DefaultPrefillChunk, tokens.Length - offset));
            if (session.Length + chunk.Length > session.Capacity)
                throw new InvalidOperationException($"{session.Length} + {chunk.Length} tokens exceed the session's capacity of {session.Capacity} positions");
            var s = TakeScratch(chunk.Length);
            try
            {
                for (int j = 0; j < chunk.Length; j++) s.Items[j] = new BatchItem(session, session.Length + j);
                Embed(chunk, s.X.AsSpan(0, chunk.Length * dim));
                RunLayers(0, _c.Layers, s);
                session.Length += chunk.Length;
                if (!lastLogits.IsEmpty && offset + chunk.Length == tokens.Length)
                    ComputeLogits(s, s.X.AsSpan((chunk.Length - 1) * dim, dim), lastLogits);
            }
            finally
            {
                s.Clear();
                ReturnScratch(s);
            }
        }
    }

    /// <summary>
    /// One forward pass over several sessions' next tokens as one batch: each session's tokens go at its next
    /// positions, every session is advanced, and the logits of each entry's last token are returned. The layers run
    /// in ranges cut at <paramref name="layerSplits"/>, as pipeline stages would run them; no bit depends on that.
    /// </summary>
    public float[][] ForwardBatch(IReadOnlyList<(Session Session, int[] Tokens)> work, int[] layerSplits)
    {
        int vocab = _c.VocabSize;
        var logits = new float[work.Count * vocab];
        ForwardBatch(work, layerSplits, logits);
        var result = new float[work.Count][];
        for (int i = 0; i < work.Count; i++) result[i] = logits.AsSpan(i * vocab, vocab).ToArray();
        return result;
    }

    /// <summary>
    /// <see cref="ForwardBatch(IReadOnlyList{ValueTuple{Session, int[]}}, int[])"/> writing entry i's logits to
    /// <paramref name="logits"/>[i × vocab, (i + 1) × vocab); allocates nothing once warm for batches of up to
    /// <see cref="KeptScratchTokens"/> tokens.
    /// </summary>
    public void ForwardBatch(IReadOnlyList<(Session Session, int[] Tokens)> work, int[] layerSplits, Span<float> logits)
    {
        ValidateSplits(layerSplits);
        int total = 0;
        for (int i = 0; i < work.Count; i++)
        {
            var (session, tokens) = work[i];
            if (tokens.Length == 0) throw new ArgumentException("no tokens to process", nameof(work));
            if (session.Length + tokens.Length > session.Capacity)
                throw new InvalidOperationException($"{session.Length} + {tokens.Length} tokens exceed the session's capacity of {session.Capacity} positions");
            total += tokens.Length;
        }
        if (logits.Length < work.Count * _c.VocabSize)
            throw new ArgumentException($"logits holds {logits.Length} floats, {work.Count} entries need {work.Count} × {_c.VocabSize}", nameof(logits));
        int dim = _c.Dim;
        var s = TakeScratch(total);
        try
        {
            var lastRows = Grow(ref s.LastRows, work.Count);
            int k = 0;
            for (int i = 0; i < work.Count; i++)
            {
                var (session, tokens) = work[i];
                Embed(tokens, s.X.AsSpan(k * dim, tokens.Length * dim));
                for (int j = 0; j < tokens.Length; j++, k++) s.Items[k] = new BatchItem(session, session.Length + j);
                lastRows[i] = k - 1;
            }
            int from = 0;
            for (int i = 0; i <= layerSplits.Length; i++)
            {
                int to = i < layerSplits.Length ? layerSplits[i] : _c.Layers;
                RunLayers(from, to, s);
                from = to;
            }
            var last = Grow(ref s.Last, work.Count * dim);
            for (int i = 0; i < work.Count; i++)
            {
                work[i].Session.Length += work[i].Tokens.Length;
                s.X.AsSpan(lastRows[i] * dim, dim).CopyTo(last.AsSpan(i * dim, dim));
            }
            ComputeLogits(s, last.AsSpan(0, work.Count * dim), logits);
        }
        finally
        {
            s.Clear();
            ReturnScratch(s);
        }
    }

    /// <summary>Layer boundaries must increase strictly within [1, layers).</summary>
    public void ValidateSplits(int[] layerSplits)
    {
        for (int i = 0; i < layerSplits.Length; i++)
        {
            int split = layerSplits[i];
            if (split <= 0 || split >= _c.Layers || (i > 0 && split <= layerSplits[i - 1]))
                throw new ArgumentException($"layer splits must increase strictly within 1 to {_c.Layers - 1}; got {string.Join(',', layerSplits)}", nameof(layerSplits));
        }
    }

    /// <summary>Final RMSNorm and output head for each row of <paramref name="hidden"/> (rows × dim) into <paramref name="logits"/> (rows × vocab).</summary>
    public void ComputeLogits(ReadOnlySpan<float> hidden, Span<float> logits)
    {
        int n = hidden.Length / _c.Dim;
        var s = n <= KeptScratchTokens ? TakeScratch(0) : new Scratch(this, 0);
        try
        {
            ComputeLogits(s, hidden, logits);
        }
        finally
        {
            s.Clear();
            ReturnScratch(s);
        }
    }

    private void ComputeLogits(Scratch s, ReadOnlySpan<float> hidden, Span<float> logits)
    {
        int dim = _c.Dim, n = hidden.Length / dim, vocab = _c.VocabSize;
        if (hidden.Length != n * dim || logits.Length < n * vocab) throw new ArgumentException("hidden/logits sizes do not match");
        var normed = s.NormedFor(n);
        for (int i = 0; i < n; i++) RmsNorm.Apply(hidden.Slice(i * dim, dim), _model.OutputNorm, _c.RmsEps, normed.Data.AsSpan(i * dim, dim));
        var output = Grow(ref s.Logits, n * vocab);
        MatMul(s, _model.Output, normed, output);
        output.AsSpan(0, n * vocab).CopyTo(logits);
    }
}
