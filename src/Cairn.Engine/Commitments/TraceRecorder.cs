using System.Security.Cryptography;

namespace Cairn.Engine.Commitments;

/// <summary>
/// Per-layer activation hashes of one session (DESIGN.md §3 rule 7). A step is one token position; its leaves are
/// <c>SHA-256</c> of each layer's output activation (little-endian fp32 bytes with NaNs made canonical, see <see cref="CanonicalFloats"/>; layers in order); the step root is the
/// Merkle root of its leaves and the trace root is the Merkle root of the step roots in position order. Because
/// steps are positions, the trace is the same however a prompt was chunked or a model split into layer ranges.
/// </summary>
public sealed class TraceRecorder(int layers)
{
    private readonly List<byte[]?[]> _steps = [];
    private readonly List<float[]?> _captured = [];

    /// <summary>
    /// Opt-in (default -1, off): the layer whose output activations are also kept, per position, for a dispute
    /// (Verification/TraceExport). Off, it costs one comparison per recorded layer.
    /// </summary>
    public int CaptureLayer { get; set; } = -1;

    /// <summary>
    /// FAULT INJECTION (tests only; null in real use): called with (position, layer, hash) after each layer hash is
    /// computed and before it is stored; it may change the hash in place (a provider that forges its layer hashes).
    /// </summary>
    public Action<int, int, byte[]>? Tamper { get; init; }

    public int Layers => layers;
    public int Steps => _steps.Count;

    /// <summary>Records the output of <paramref name="layer"/> at <paramref name="position"/>.</summary>
    public void Record(int position, int layer, ReadOnlySpan<float> activation)
    {
        while (_steps.Count <= position) _steps.Add(new byte[]?[layers]);
        byte[] hash = SHA256.HashData(CanonicalFloats.Bytes(activation));
        Tamper?.Invoke(position, layer, hash);
        _steps[position][layer] = hash;
        if (layer == CaptureLayer)
        {
            while (_captured.Count <= position) _captured.Add(null);
            _captured[position] = activation.ToArray();
        }
    }

    /// <summary>
    /// Records a layer hash computed elsewhere: a pipeline's gateway assembles the trace of a request from the hashes each
    /// stage reports for its own layers (<see cref="LayerHash"/> of the stage's recorder).
    /// </summary>
    public void RecordHash(int position, int layer, ReadOnlySpan<byte> hash)
    {
        if ((uint)layer >= (uint)layers) throw new ArgumentOutOfRangeException(nameof(layer), $"layer {layer} is outside 0 to {layers - 1}");
        if (hash.Length != MerkleTree.HashSize) throw new ArgumentException($"a layer hash is {MerkleTree.HashSize} bytes, got {hash.Length}", nameof(hash));
        while (_steps.Count <= position) _steps.Add(new byte[]?[layers]);
        _steps[position][layer] = hash.ToArray();
    }

    /// <summary>The hash of one layer's output at one position (null if that layer did not run here).</summary>
    public byte[]? LayerHash(int position, int layer) => _steps[position][layer];

    /// <summary>The Merkle root over a step's layer hashes; every layer must have been recorded.</summary>
    public byte[] StepRoot(int position)
    {
        var step = _steps[position];
        for (int l = 0; l < step.Length; l++)
        {
            if (step[l] is null) throw new InvalidOperationException($"layer {l} of step {position} was not recorded");
        }
        return MerkleTree.Root(step!);
    }

    /// <summary>The Merkle root over all step roots.</summary>
    public byte[] TraceRoot()
    {
        var roots = new byte[_steps.Count][];
        for (int i = 0; i < roots.Length; i++) roots[i] = StepRoot(i);
        return MerkleTree.Root(roots);
    }

    /// <summary>The output of <see cref="CaptureLayer"/> at <paramref name="position"/>, if it was captured.</summary>
    public float[]? Captured(int position) => position < _captured.Count ? _captured[position] : null;

    public void Truncate(int positions)
    {
        if (positions < _steps.Count) _steps.RemoveRange(positions, _steps.Count - positions);
        if (positions < _captured.Count) _captured.RemoveRange(positions, _captured.Count - positions);
    }
}
