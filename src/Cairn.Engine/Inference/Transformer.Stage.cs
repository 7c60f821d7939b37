namespace Cairn.Engine.Inference;

public sealed partial class Transformer
{
    /// <summary>
    /// A pipeline stage's step for the first stage: embeds <paramref name="tokens"/>, runs the layers this model holds
    /// (<see cref="Models.Model.FirstLayer"/> to <see cref="Models.Model.EndLayer"/>) at positions
    /// <paramref name="start"/>… of <paramref name="session"/>, and returns their output (tokens × dim).
    /// </summary>
    public float[] StageForward(Session session, int start, ReadOnlySpan<int> tokens)
    {
        var hidden = new float[tokens.Length * _c.Dim];
        Embed(tokens, hidden);
        RunStage(session, start, hidden);
        return hidden;
    }

    /// <summary>
    /// A pipeline stage's step after the first: runs the layers this model holds on <paramref name="hidden"/> (the
    /// previous stage's output, rows × dim) at positions <paramref name="start"/>… of <paramref name="session"/>, in place.
    /// A <paramref name="start"/> below the session's length forgets the positions from there on first (a replay).
    /// Bits are those of the whole model's forward pass: the same layers run in the same order on the same floats.
    /// </summary>
    public void RunStage(Session session, int start, Span<float> hidden)
    {
        int dim = _c.Dim, n = hidden.Length / dim;
        if (n == 0 || hidden.Length != n * dim) throw new ArgumentException($"hidden holds {hidden.Length} floats, not a positive multiple of {dim}", nameof(hidden));
        if (start < 0 || start > session.Length)
            throw new ArgumentOutOfRangeException(nameof(start), $"position {start} would leave a gap: the session holds {session.Length} positions");
        if (start + n > session.Capacity)
            throw new InvalidOperationException($"{start} + {n} positions exceed the session's capacity of {session.Capacity}");
        if (start < session.Length) session.Truncate(start);
        for (int offset = 0; offset < n; offset += DefaultPrefillChunk)
        {
            int count = Math.Min(DefaultPrefillChunk, n - offset);
            var batch = new BatchItem[count];
            for (int i = 0; i < count; i++) batch[i] = new BatchItem(session, start + offset + i);
            RunLayers(_model.FirstLayer, _model.EndLayer, batch, hidden.Slice(offset * dim, count * dim));
        }
        session.Length = start + n;
    }

    /// <summary>The last stage's head: the logits (vocab floats) of the last row of <paramref name="hidden"/> (rows × dim).</summary>
    public float[] LastLogits(ReadOnlySpan<float> hidden)
    {
        var logits = new float[_c.VocabSize];
        ComputeLogits(hidden[^_c.Dim..], logits);
        return logits;
    }
}
