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
    /// </summary>
    public void Forward(Session session, ReadOnlySpan<int> tokens, Span<float> lastLogits)
    {
        if (tokens.IsEmpty) throw new ArgumentException("no tokens to process", nameof(tokens));
        float[][] logits = [];
        for (int i = 0; i < tokens.Length; i += DefaultPrefillChunk)
            logits = ForwardBatch([(session, tokens.Slice(i, Math.Min(DefaultPrefillChunk, tokens.Length - i)).ToArray())], []);
        if (!lastLogits.IsEmpty) logits[0].CopyTo(lastLogits);
    }

    /// <summary>
    /// One forward pass over several sessions' next tokens as one batch: each session's tokens go at its next
    /// positions, every session is advanced, and the logits of each entry's last token are returned. The layers run
    /// in ranges cut at <paramref name="layerSplits"/>, as pipeline stages would run them; no bit depends on that.
    /// </summary>
    public float[][] ForwardBatch(IReadOnlyList<(Session Session, int[] Tokens)> work, int[] layerSplits)
    {
        ValidateSplits(layerSplits);
        int total = 0;
        foreach (var (session, tokens) in work)
        {
            if (tokens.Length == 0) throw new ArgumentException("no tokens to process", nameof(work));
            if (session.Length + tokens.Length > session.Capacity)
                throw new InvalidOperationException($"{session.Length} + {tokens.Length} tokens exceed the session's capacity of {session.Capacity} positions");
            total += tokens.Length;
        }
        int dim = _c.Dim;
        var ids = new int[total];
        var batch = new BatchItem[total];
        var lastRows = new int[work.Count];
        int k = 0;
        for (int i = 0; i < work.Count; i++)
        {
            var (session, tokens) = work[i];
            for (int j = 0; j < tokens.Length; j++, k++)
            {
                ids[k] = tokens[j];
                batch[k] = new BatchItem(session, session.Length + j);
            }
            lastRows[i] = k - 1;
        }
        var hidden = new float[total * dim];
        Embed(ids, hidden);
        int from = 0;
        foreach (int to in layerSplits.Append(_c.Layers))
        {
            RunLayers(from, to, batch, hidden);
            from = to;
        }
        var last = new float[work.Count * dim];
        for (int i = 0; i < work.Count; i++)
        {
            work[i].Session.Length += work[i].Tokens.Length;
            hidden.AsSpan(lastRows[i] * dim, dim).CopyTo(last.AsSpan(i * dim, dim));
        }
        var logits = new float[work.Count * _c.VocabSize];
        ComputeLogits(last, logits);
        var result = new float[work.Count][];
        for (int i = 0; i < work.Count; i++) result[i] = logits.AsSpan(i * _c.VocabSize, _c.VocabSize).ToArray();
        return result;
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
        int dim = _c.Dim, n = hidden.Length / dim;
        if (hidden.Length != n * dim || logits.Length < n * _c.VocabSize) throw new ArgumentException("hidden/logits sizes do not match");
        var normed = new float[n * dim];
        for (int i = 0; i < n; i++) RmsNorm.Apply(hidden.Slice(i * dim, dim), _model.OutputNorm, _c.RmsEps, normed.AsSpan(i * dim, dim));
        var output = new float[n * _c.VocabSize];
        MatMul(_model.Output, new ActivationBatch(normed, n, dim), output);
        output.CopyTo(logits);
    }
}
