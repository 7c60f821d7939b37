using Cairn.Engine.Adapters;
using Cairn.Engine.Commitments;

namespace Cairn.Engine.Inference;

/// <summary>
/// The state of one sequence: its KV cache, how many positions each layer has filled, and an optional trace of
/// per-layer activation hashes. The cache grows in chunks of <see cref="ChunkPositions"/> positions as positions are
/// written, and only for the layers that run here, so a long context or a pipeline stage costs only what it uses.
/// </summary>
public sealed class Session
{
    public const int ChunkPositions = 256;

    private readonly List<float[]>[] _keys;
    private readonly List<float[]>[] _values;
    private readonly int[] _filled;

    internal Session(int layers, int kvDim, int capacity, TraceRecorder? trace, IReadOnlyList<LoraAdapter>? adapters = null)
    {
        Adapters = adapters ?? [];
        _keys = new List<float[]>[layers];
        _values = new List<float[]>[layers];
        for (int l = 0; l < layers; l++)
        {
            _keys[l] = [];
            _values[l] = [];
        }
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
    /// <summary>The LoRA adapters applied to this sequence, in order (each added after the base product); empty: none.</summary>
    public IReadOnlyList<LoraAdapter> Adapters { get; }

    /// <summary>Positions filled in layer <paramref name="layer"/>'s cache.</summary>
    public int Filled(int layer) => _filled[layer];

    /// <summary>The key vector (kv_dim floats) of <paramref name="position"/> in <paramref name="layer"/>.</summary>
    internal Span<float> Key(int layer, int position) => Row(_keys[layer], position);

    /// <summary>The value vector (kv_dim floats) of <paramref name="position"/> in <paramref name="layer"/>.</summary>
    internal Span<float> Value(int layer, int position) => Row(_values[layer], position);

    private Span<float> Row(List<float[]> chunks, int position)
    {
        int chunk = position / ChunkPositions;
        while (chunks.Count <= chunk) chunks.Add(new float[ChunkPositions * KvDim]);
        return chunks[chunk].AsSpan(position % ChunkPositions * KvDim, KvDim);
    }

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
