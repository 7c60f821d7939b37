using System.Diagnostics;
using System.Security.Cryptography;
using Cairn.Engine.Commitments;
using Cairn.Engine.Inference;
using Cairn.Engine.Sampling;

namespace Cairn.Engine.Generation;

/// <summary>
/// Serves many concurrent generations on one model by continuous batching: one worker thread runs a forward pass per
/// step over every active sequence — new prompts' chunks and running sequences' next tokens together — so sequences
/// join and leave between steps. Each sequence's tokens, logits and commitments are exactly those it would get alone
/// (the engine's results do not depend on batch composition), which is what lets a validator re-execute one request
/// of a busy provider.
/// </summary>
public sealed class ContinuousBatcher : IDisposable
{
    private readonly Transformer _t;
    private readonly int _maxSequences;
    private readonly int _prefillChunk;
    private readonly Queue<Sequence> _pending = new();
    private readonly List<Sequence> _active = [];
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _worker;

    /// <param name="transformer">The model to run.</param>
    /// <param name="maxSequences">Sequences in one batch at most; more wait their turn.</param>
    /// <param name="prefillChunk">Prompt tokens of one sequence per step, so that long prompts do not stall running sequences.</param>
    public ContinuousBatcher(Transformer transformer, int maxSequences = 16, int prefillChunk = 64)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSequences, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(prefillChunk, 1);
        _t = transformer;
        _maxSequences = maxSequences;
        _prefillChunk = prefillChunk;
        _worker = new Thread(Run) { IsBackground = true, Name = "cairn-batcher" };
        _worker.Start();
    }

    /// <summary>Sequences running or waiting.</summary>
    public int Load
    {
        get
        {
            lock (_gate) return _pending.Count + _active.Count;
        }
    }

    /// <summary>
    /// Queues a generation. <paramref name="onToken"/> runs on the worker thread right after each token is sampled and
    /// returns true to end the sequence there (a stop string was completed); keep it short and non-blocking.
    /// </summary>
    public Task<GenerationResult> Submit(int[] prompt, GenerationOptions options, Func<int, bool>? onToken = null, CancellationToken cancellationToken = default)
    {
        if (prompt.Length == 0) throw new ArgumentException("a prompt needs at least one token (add BOS)", nameof(prompt));
        if (prompt.Length > _t.Config.ContextLength)
            throw new ArgumentException($"the prompt has {prompt.Length} tokens, the model's context holds {_t.Config.ContextLength}", nameof(prompt));
        if (options.MaxTokens < 0) throw new ArgumentOutOfRangeException(nameof(options), "max tokens is negative");
        _t.ValidateSplits(options.LayerSplits);
        var seq = new Sequence(prompt, options, _t.CreateSession(trace: options.Commitment, adapters: options.Adapters), new Sampler(options.Sampling), onToken, cancellationToken);
        foreach (int token in prompt) seq.Sampler.Accept(token);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
            _pending.Enqueue(seq);
        }
        _signal.Release();
        return seq.Completion.Task;
    }

    private void Run()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                _signal.Wait(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            while (Step())
            {
            }
        }
        lock (_gate)
        {
            foreach (var s in _active.Concat(_pending)) s.Completion.TrySetException(new ObjectDisposedException(nameof(ContinuousBatcher)));
            _active.Clear();
            _pending.Clear();
        }
    }

    /// <summary>One forward pass over all active sequences; false when there is nothing to do.</summary>
    private bool Step()
    {
        lock (_gate)
        {
            while (_active.Count < _maxSequences && _pending.Count > 0)
            {
                var s = _pending.Dequeue();
                s.Clock.Restart();
                _active.Add(s);
            }
        }
        if (_active.Count == 0 || _stop.IsCancellationRequested) return false;

        var work = new List<(Session, int[])>();
        var stepping = new List<Sequence>();
        foreach (var s in _active.ToList())
        {
            if (s.Cancellation.IsCancellationRequested)
            {
                Finish(s, null, new OperationCanceledException(s.Cancellation));
                continue;
            }
            int[] tokens;
            if (s.Prefilled < s.Prompt.Length)
            {
                int take = Math.Min(_prefillChunk, s.Prompt.Length - s.Prefilled);
                tokens = s.Prompt.AsSpan(s.Prefilled, take).ToArray();
                s.Prefilled += take;
            }
            else tokens = [s.Generated[^1]];
            work.Add((s.Session, tokens));
            stepping.Add(s);
        }
        if (work.Count == 0) return _active.Count > 0;

        float[][] logits;
        try
        {
            logits = _t.ForwardBatch(work, []);
        }
        catch (Exception e)
        {
            foreach (var s in stepping) Finish(s, null, e);
            return true;
        }

        for (int i = 0; i < stepping.Count; i++)
        {
            var s = stepping[i];
            if (s.Prefilled < s.Prompt.Length) continue;
            if (s.Generated.Count == 0 && s.PrefillTime == TimeSpan.Zero)
            {
                s.PrefillTime = s.Clock.Elapsed;
                s.Clock.Restart();
            }
            if (s.Generated.Count >= s.Options.MaxTokens)
            {
                Finish(s, "length", null);
                continue;
            }
            s.LogitsHash.AppendData(CanonicalFloats.Bytes(logits[i]));
            int token = s.Options.TokenOverride is { } forced ? forced(s.Generated.Count) : s.Sampler.Sample(logits[i]);
            s.Generated.Add(token);
            bool stop;
            try
            {
                stop = s.OnToken?.Invoke(token) ?? false;
            }
            catch (Exception e)
            {
                Finish(s, null, e);
                continue;
            }
            if (stop || (s.Options.StopAtEndOfGeneration && _t.Model.Tokenizer?.IsEndOfGeneration(token) == true)) Finish(s, "stop", null);
            else if (s.Generated.Count >= s.Options.MaxTokens) Finish(s, "length", null);
            else if (s.Session.Length >= s.Session.Capacity) Finish(s, "context", null);
        }
        return true;
    }

    private void Finish(Sequence s, string? reason, Exception? error)
    {
        lock (_gate) _active.Remove(s);
        if (error != null)
        {
            if (error is OperationCanceledException oce) s.Completion.TrySetCanceled(oce.CancellationToken);
            else s.Completion.TrySetException(error);
            return;
        }
        s.Completion.TrySetResult(GenerationResult.Finish(s.Prompt, s.Generated, reason!, s.PrefillTime, s.Clock.Elapsed, s.LogitsHash, s.Session));
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_stop.IsCancellationRequested) return;
            _stop.Cancel();
        }
        _worker.Join();
        _signal.Dispose();
    }

    private sealed class Sequence(int[] prompt, GenerationOptions options, Session session, Sampler sampler, Func<int, bool>? onToken, CancellationToken cancellation)
    {
        public int[] Prompt { get; } = prompt;
        public GenerationOptions Options { get; } = options;
        public Session Session { get; } = session;
        public Sampler Sampler { get; } = sampler;
        public Func<int, bool>? OnToken { get; } = onToken;
        public CancellationToken Cancellation { get; } = cancellation;
        public int Prefilled { get; set; }
        public List<int> Generated { get; } = [];
        public Stopwatch Clock { get; } = new();
        public TimeSpan PrefillTime { get; set; }
        public IncrementalHash LogitsHash { get; } = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        public TaskCompletionSource<GenerationResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
