using System.Diagnostics;
using System.Security.Cryptography;
using Cairn.Engine.Commitments;
using Cairn.Engine.Inference;
using Cairn.Engine.Sampling;

namespace Cairn.Engine.Generation;

/// <summary>
/// Generates continuations of one or several prompts. Several prompts are decoded together, one batch per step;
/// each sequence's tokens, logits and commitments are exactly those it would get alone.
/// </summary>
public sealed class Generator(Transformer transformer)
{
    private readonly Transformer _t = transformer;

    public GenerationResult Generate(int[] prompt, GenerationOptions options, Action<int>? onToken = null, CancellationToken cancellationToken = default) =>
        GenerateBatch([prompt], options, onToken is null ? null : (_, token) => onToken(token), cancellationToken)[0];

    /// <summary>Generates for every prompt; <paramref name="onToken"/> gets (sequence index, token) as tokens are sampled.</summary>
    public GenerationResult[] GenerateBatch(IReadOnlyList<int[]> prompts, GenerationOptions options, Action<int, int>? onToken = null,
        CancellationToken cancellationToken = default)
    {
        if (options.MaxTokens < 0) throw new ArgumentOutOfRangeException(nameof(options), "max tokens is negative");
        if (options.PrefillChunk < 0) throw new ArgumentOutOfRangeException(nameof(options), "prefill chunk is negative");
        for (int i = 0; i < options.LayerSplits.Length; i++)
        {
            int split = options.LayerSplits[i];
            if (split <= 0 || split >= _t.Config.Layers || (i > 0 && split <= options.LayerSplits[i - 1]))
                throw new ArgumentException($"layer splits must increase strictly within 1 to {_t.Config.Layers - 1}; got {string.Join(',', options.LayerSplits)}", nameof(options));
        }
        var seqs = new Sequence[prompts.Count];
        for (int i = 0; i < seqs.Length; i++)
        {
            var prompt = prompts[i];
            if (prompt.Length == 0) throw new ArgumentException("a prompt needs at least one token (add BOS)", nameof(prompts));
            if (prompt.Length > _t.Config.ContextLength)
                throw new ArgumentException($"the prompt has {prompt.Length} tokens, the model's context holds {_t.Config.ContextLength}", nameof(prompts));
            seqs[i] = new Sequence(prompt, _t.CreateSession(trace: options.Commitment), new Sampler(options.Sampling));
            foreach (int token in prompt) seqs[i].Sampler.Accept(token);
        }

        var clock = Stopwatch.StartNew();
        int chunk = options.PrefillChunk == 0 ? int.MaxValue : options.PrefillChunk;
        while (seqs.Any(s => s.Prefilled < s.Prompt.Length))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var work = new List<(Sequence Seq, int[] Tokens)>();
            foreach (var s in seqs)
            {
                int take = Math.Min(chunk, s.Prompt.Length - s.Prefilled);
                if (take == 0) continue;
                work.Add((s, s.Prompt.AsSpan(s.Prefilled, take).ToArray()));
                s.Prefilled += take;
            }
            var logits = Step(work, options.LayerSplits);
            for (int i = 0; i < work.Count; i++)
            {
                if (work[i].Seq.Prefilled == work[i].Seq.Prompt.Length) work[i].Seq.Logits = logits[i];
            }
        }
        var prefillTime = clock.Elapsed;

        clock.Restart();
        for (int step = 0; ; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var work = new List<(Sequence Seq, int[] Tokens)>();
            for (int i = 0; i < seqs.Length; i++)
            {
                var s = seqs[i];
                if (s.StopReason != null) continue;
                if (s.Generated.Count >= options.MaxTokens)
                {
                    s.StopReason = "length";
                    continue;
                }
                s.LogitsHash.AppendData(CanonicalFloats.Bytes(s.Logits));
                int token = s.Sampler.Sample(s.Logits);
                s.Generated.Add(token);
                onToken?.Invoke(i, token);
                if (options.StopAtEndOfGeneration && _t.Model.Tokenizer?.IsEndOfGeneration(token) == true) s.StopReason = "stop";
                else if (s.Generated.Count >= options.MaxTokens) s.StopReason = "length";
                else if (s.Session.Length >= s.Session.Capacity) s.StopReason = "context";
                else work.Add((s, [token]));
            }
            if (work.Count == 0) break;
            var logits = Step(work, options.LayerSplits);
            for (int i = 0; i < work.Count; i++) work[i].Seq.Logits = logits[i];
        }
        var decodeTime = clock.Elapsed;

        return seqs.Select(s =>
        {
            byte[]? traceRoot = s.Session.Trace?.TraceRoot();
            int[] tokens = s.Generated.ToArray();
            return new GenerationResult
            {
                PromptTokens = s.Prompt,
                Tokens = tokens,
                StopReason = s.StopReason ?? "length",
                PrefillTime = prefillTime,
                DecodeTime = decodeTime,
                LogitsHash = s.LogitsHash.GetHashAndReset(),
                TraceRoot = traceRoot,
                OutputCommitment = traceRoot is null ? null : OutputCommitment.Compute(tokens, traceRoot),
            };
        }).ToArray();
    }

    /// <summary>One forward pass over several sequences' next tokens; returns the logits of each sequence's last token.</summary>
    private float[][] Step(List<(Sequence Seq, int[] Tokens)> work, int[] splits)
    {
        int total = work.Sum(w => w.Tokens.Length), dim = _t.Config.Dim;
        var tokens = new int[total];
        var batch = new BatchItem[total];
        var lastRows = new int[work.Count];
        int k = 0;
        for (int i = 0; i < work.Count; i++)
        {
            var (seq, toks) = work[i];
            for (int j = 0; j < toks.Length; j++, k++)
            {
                tokens[k] = toks[j];
                batch[k] = new BatchItem(seq.Session, seq.Session.Length + j);
            }
            lastRows[i] = k - 1;
        }
        var hidden = new float[total * dim];
        _t.Embed(tokens, hidden);
        int from = 0;
        foreach (int to in splits.Append(_t.Config.Layers))
        {
            _t.RunLayers(from, to, batch, hidden);
            from = to;
        }
        var last = new float[work.Count * dim];
        for (int i = 0; i < work.Count; i++)
        {
            work[i].Seq.Session.Length += work[i].Tokens.Length;
            hidden.AsSpan(lastRows[i] * dim, dim).CopyTo(last.AsSpan(i * dim, dim));
        }
        var logits = new float[work.Count * _t.Config.VocabSize];
        _t.ComputeLogits(last, logits);
        var result = new float[work.Count][];
        for (int i = 0; i < work.Count; i++) result[i] = logits.AsSpan(i * _t.Config.VocabSize, _t.Config.VocabSize).ToArray();
        return result;
    }

    private sealed class Sequence(int[] prompt, Session session, Sampler sampler)
    {
        public int[] Prompt { get; } = prompt;
        public Session Session { get; } = session;
        public Sampler Sampler { get; } = sampler;
        public int Prefilled { get; set; }
        public float[] Logits { get; set; } = [];
        public List<int> Generated { get; } = [];
        public string? StopReason { get; set; }
        public IncrementalHash LogitsHash { get; } = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    }
}
