using Cairn.Engine.Commitments;

namespace Cairn.Engine.Inference;

/// <summary>
/// The state of one sequence: its KV cache (allocated per layer on first use, so a pipeline stage holds only its own
/// layers), how many positions each layer has filled, and an optional trace of per-layer activation hashes.
/// </summary>
public sealed class Session
{
    private readonly float[]?[] _keys;
    private readonly float[]?[] _values;
    private readonly int[] _filled;

    internal Session(int layers, int kvDim, int capacity, TraceRecorder? trace)
    {
        _keys = new float[]?[layers];
        _values = new float[]?[layers];
        _filled = new int[layers];
        KvDim = kvDim;
        Capacity = capacity;
        Trace = trace;
    }

    /// <summary>Positions the KV cache can hold (at most the model's context length).</summary>
    public int Capacity { get; }
    public int KvDim { get; }
    /// <summary>Tokens fully processed by <see cref="Transformer.Forward"/>; the next token's position.</summary>
    public int Length { get; internal set; }
    public TraceRecorder? Trace { get; }

    /// <summary>Positions filled in layer <paramref name="layer"/>'s cache.</summary>
    public int Filled(int layer) => _filled[layer];

    internal float[] Keys(int layer) => _keys[layer] ??= new float[(long)Capacity * KvDim];
    internal float[] Values(int layer) => _values[layer] ??= new float[(long)Capacity * KvDim];

    internal void MarkFilled(int layer, int position)
    {
        if (position > _filled[layer])
            throw new InvalidOperationException($"position {position} of layer {layer} would leave a gap: only {_filled[layer]} positions are filled");
        if (position == _filled[layer]) _filled[layer] = position + 1;
    }

    /// <summary>Forgets everything from <paramref name="length"/> on (to replay or branch).</summary>
    public void Truncate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        for (int l = 0; l < _filled.Length; l++) _filled[l] = Math.Min(_filled[l], length);
        Length = Math.Min(Length, length);
        Trace?.Truncate(length);
    }
}
