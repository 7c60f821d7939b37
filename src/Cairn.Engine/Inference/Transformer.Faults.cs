namespace Cairn.Engine.Inference;

public sealed partial class Transformer
{
    private bool[]? _skipped; // null when no layer is skipped: RunLayers then pays one null check per layer

    /// <summary>
    /// FAULT INJECTION (tests only; empty in real use): layers whose computation is skipped — their output is their
    /// input, no KV entries are written — from the first token on, as a lazy provider would do. The trace still
    /// records the skipped layer (the hash of its unchanged input), so a replay through this transformer gives the
    /// same trace as the generation. Set it before the first forward pass.
    /// </summary>
    public IReadOnlyList<int> SkippedLayers
    {
        get => _skipped is null ? [] : Enumerable.Range(0, _skipped.Length).Where(l => _skipped[l]).ToArray();
        set
        {
            bool[]? skipped = null;
            foreach (int l in value)
            {
                if ((uint)l >= (uint)_c.Layers) throw new ArgumentOutOfRangeException(nameof(value), $"layer {l} is outside 0 to {_c.Layers - 1}");
                (skipped ??= new bool[_c.Layers])[l] = true;
            }
            _skipped = skipped;
        }
    }

    /// <summary>
    /// FAULT INJECTION (tests only; null in real use): handed to the <see cref="Commitments.TraceRecorder"/> of every
    /// traced session this transformer creates (<see cref="Commitments.TraceRecorder.Tamper"/>), so a generation and a
    /// later replay forge the same layer hashes. Set it before the first session is created.
    /// </summary>
    public Action<int, int, byte[]>? TraceTamper { get; set; }

    private bool Skips(int layer) => _skipped is { } s && s[layer];
}
