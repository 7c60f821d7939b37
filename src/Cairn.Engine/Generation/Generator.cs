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
        _t.ValidateSplits(options.LayerSplits);
        var seqs = new Sequence[prompts.Count];
        for (int i = 0; i < seqs.Length; i++)
        {
            var prompt = prompts[i];
            if (prompt.Length == 0) throw new ArgumentException("a prompt needs at least one token (add BOS)", nameof(prompts));
            if (prompt.Length > _t.Config.ContextLength)
                throw new ArgumentException($"the prompt has {prompt.Length} tokens, the model's context holds {_t.Config.ContextLength}", nameof(prompts));
            seqs[i] = new Sequence(prompt, _t.CreateSession(trace: options.Commitment, adapters: options.Adapters), new Sampler(options.Sampling));
            foreach (int token in prompt) seqs[i].Sampler.Accept(token);
        }

        var clock = Stopwatch.StartNew();
        int chunk = options.PrefillChunk == 0 ? Transformer.DefaultPrefillChunk : options.PrefillChunk;
        while (seqs.Any(s => s.Prefilled < s.Prompt.Length))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var work = new List<(Sequence Seq, int[] Tokens)>();
            int budget = Transformer.MaxBatchTokens;
            foreach (var s in seqs)
            {
                int take = Math.Min(Math.Min(chunk, budget), s.Prompt.Length - s.Prefilled);
                if (take == 0) continue;
                budget -= take;
                work.Add((s, s.Prompt.AsSpan(s.Prefilled, take).ToArray()));
                s.Prefilled += take;
            }
            var logits = _t.ForwardBatch(work.Select(w => (w.Seq.Session, w.Tokens)).ToList(), options.LayerSplits);
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
                int token = options.TokenOverride is { } forced ? forced(s.Generated.Count) : s.Sampler.Sample(s.Logits);
                s.Generated.Add(token);
                onToken?.Invoke(i, token);
                if (options.StopAtEndOfGeneration && _t.Model.Tokenizer?.IsEndOfGeneration(token) == true) s.StopReason = "stop";
                else if (s.Generated.Count >= options.MaxTokens) s.StopReason = "length";
                else if (s.Session.Length >= s.Session.Capacity) s.StopReason = "context";
                else work.Add((s, [token]));
            }
            if (work.Count == 0) break;
            var logits = _t.ForwardBatch(work.Select(w => (w.Seq.Session, w.Tokens)).ToList(), options.LayerSplits);
            for (int i = 0; i < work.Count; i++) work[i].Seq.Logits = logits[i];
        }
        var decodeTime = clock.Elapsed;

        return seqs.Select(s => GenerationResult.Finish(s.Prompt, s.Generated, s.StopReason ?? "length", prefillTime, decodeTime, s.LogitsHash, s.Session)).ToArray();
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
