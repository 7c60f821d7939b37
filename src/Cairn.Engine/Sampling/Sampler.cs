using Cairn.Engine.Kernels;

namespace Cairn.Engine.Sampling;

/// <summary>
/// Picks the next token from logits, bit-identically on every machine (DESIGN.md §3 rule 6). The order of operations:
/// <list type="number">
/// <item>one draw <c>u</c> from xoshiro256** — always, greedy included, so the stream position equals the token count;</item>
/// <item>repetition penalty on each distinct token of the last <c>RepeatLastN</c> (logit &gt; 0: divided, else multiplied);</item>
/// <item>temperature 0: the largest logit wins, ties to the lower id — done;</item>
/// <item>candidates sorted by logit descending, ties by lower id; top-k keeps the first k;</item>
/// <item>logits multiplied by <c>1f / temperature</c> (one float division, then one product per candidate); if the first
/// candidate's scaled logit is not finite (a vanishing temperature), the first candidate is the token — done; softmax over the
/// candidates in sorted order (own exp, max first, sequential sum);</item>
/// <item>top-p keeps the shortest prefix whose running sum (sequential, in order) reaches p;</item>
/// <item>min-p keeps candidates with probability ≥ min_p × the first one's;</item>
/// <item>the kept probabilities are summed in order; the token is the first whose running sum exceeds <c>u × sum</c>
/// (the last kept one if rounding leaves none).</item>
/// </list>
/// </summary>
public sealed class Sampler
{
    private readonly SamplingOptions _options;
    private Xoshiro256StarStar _rng;
    private readonly List<int> _history = [];
    private int[] _order = [];
    private float[] _values = [];

    public Sampler(SamplingOptions options)
    {
        string? error = options.Validate();
        if (error != null) throw new ArgumentException(error, nameof(options));
        _options = options;
        _rng = new Xoshiro256StarStar(options.Seed);
    }

    /// <summary>
    /// The sampler exactly as a generation's sampler stands just before it samples generated token <paramref name="index"/>,
    /// rebuilt without running the model: its history is <paramref name="history"/> (the prompt, then the
    /// <paramref name="index"/> tokens generated before), and its stream has made one draw per sampled token (rule 1
    /// above), so it is advanced by <paramref name="index"/> draws. The next <see cref="Sample"/> on the logits of that
    /// step gives the generator's token bit for bit. Cost: <paramref name="index"/> xoshiro256** steps. For a dispute
    /// referee (Verification/TokenReferee); it changes nothing in how tokens are sampled.
    /// </summary>
    public static Sampler Resume(SamplingOptions options, ReadOnlySpan<int> history, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        if (index > history.Length) throw new ArgumentException($"{index} generated tokens cannot precede a history of {history.Length} tokens", nameof(index));
        var sampler = new Sampler(options);
        foreach (int token in history) sampler.Accept(token);
        for (int i = 0; i < index; i++) sampler._rng.Next();
        return sampler;
    }

    /// <summary>Tells the sampler about tokens already in the context (the prompt), for the repetition penalty.</summary>
    public void Accept(int token) => _history.Add(token);

    /// <summary>Samples a token from <paramref name="logits"/> (modified in place by the penalty) and accepts it.</summary>
    public int Sample(Span<float> logits)
    {
        float u = _rng.NextUnitFloat();
        ApplyRepeatPenalty(logits);
        int token = _options.Temperature == 0 ? ArgMax(logits) : SampleFromDistribution(logits, u);
        Accept(token);
        return token;
    }

    private void ApplyRepeatPenalty(Span<float> logits)
    {
        float penalty = _options.RepeatPenalty;
        if (penalty == 1f || _options.RepeatLastN == 0) return;
        int start = Math.Max(0, _history.Count - _options.RepeatLastN);
        var seen = new HashSet<int>();
        for (int i = start; i < _history.Count; i++)
        {
            int t = _history[i];
            if ((uint)t >= (uint)logits.Length || !seen.Add(t)) continue;
            logits[t] = logits[t] > 0 ? logits[t] / penalty : logits[t] * penalty;
        }
    }

    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best]) best = i;
        }
        return best;
    }

    private int SampleFromDistribution(Span<float> logits, float u)
    {
        int n = logits.Length;
        if (_order.Length < n)
        {
            _order = new int[n];
            _values = new float[n];
        }
        int count = _options.TopK > 0 ? Math.Min(_options.TopK, n) : n;
        var order = _order.AsSpan(0, count);
        if (count < n) SelectTop(logits, order);
        else
        {
            for (int i = 0; i < n; i++) order[i] = i;
            var copy = logits.ToArray();
            order.Sort((a, b) => Before(copy, a, b) ? -1 : Before(copy, b, a) ? 1 : 0);
        }
        var p = _values.AsSpan(0, count);
        float invTemp = 1f / _options.Temperature;
        for (int i = 0; i < count; i++) p[i] = logits[order[i]] * invTemp;
        // A temperature so small that the best scaled logit is not finite would make every probability NaN (and the
        // draw fall through to the worst candidate): it is greedy, so the first candidate wins.
        if (!float.IsFinite(p[0])) return order[0];
        Softmax.InPlace(p);

        if (_options.TopP < 1f)
        {
            float cumulative = 0;
            for (int i = 0; i < count; i++)
            {
                cumulative += p[i];
                if (cumulative >= _options.TopP)
                {
                    count = i + 1;
                    break;
                }
            }
        }
        if (_options.MinP > 0f)
        {
            float threshold = _options.MinP * p[0];
            int kept = 1;
            while (kept < count && p[kept] >= threshold) kept++;
            count = kept;
        }

        float sum = 0;
        for (int i = 0; i < count; i++) sum += p[i];
        float target = u * sum, running = 0;
        for (int i = 0; i < count; i++)
        {
            running += p[i];
            if (running > target) return order[i];
        }
        return order[count - 1];
    }

    /// <summary>The candidate order: larger logit first, the lower id on ties (NaN sorts last).</summary>
    private static bool Before(ReadOnlySpan<float> logits, int a, int b)
    {
        float x = logits[a], y = logits[b];
        if (x > y || (float.IsNaN(y) && !float.IsNaN(x))) return true;
        if (x < y || float.IsNaN(x) != float.IsNaN(y)) return false;
        return a < b;
    }

    /// <summary>
    /// The first <c>top.Length</c> candidates in candidate order, by insertion into a sorted array of that size: one
    /// comparison for most tokens. Since the order is total, this equals the prefix of a full sort.
    /// </summary>
    private static void SelectTop(ReadOnlySpan<float> logits, Span<int> top)
    {
        int k = top.Length, filled = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            if (filled == k && !Before(logits, i, top[k - 1])) continue;
            int j = filled == k ? k - 1 : filled++;
            while (j > 0 && Before(logits, i, top[j - 1]))
            {
                top[j] = top[j - 1];
                j--;
            }
            top[j] = i;
        }
    }
}
