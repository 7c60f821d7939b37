using Cairn.Engine.Kernels;

namespace Cairn.Engine.Inference;

/// <summary>
/// The inputs of a matrix product: <see cref="Count"/> rows of <see cref="Width"/> floats, and — made once, on first
/// need — their Q8 quantization per block of 32 (DESIGN.md §3 rule 3), shared by every quantized weight that reads them.
/// </summary>
public sealed class ActivationBatch
{
    private sbyte[] _q = [];
    private float[] _scales = [];
    private int[] _sums = [];
    private bool _quantized;
    private byte[] _lanes = [];
    private bool _lanesReady;

    public ActivationBatch(float[] data, int count, int width)
    {
        Data = data;
        Count = count;
        Width = width;
    }

    public float[] Data { get; }
    public int Count { get; private set; }
    public int Width { get; }

    public ReadOnlySpan<float> Row(int i) => Data.AsSpan(i * Width, Width);

    /// <summary>Quantizes all rows (idempotent until <see cref="Invalidate"/>).</summary>
    public void EnsureQuantized()
    {
        if (_quantized) return;
        _lanesReady = false;
        EnsureBuffers();
        int blocks = Width / 32;
        for (int i = 0; i < Count; i++)
            ActivationQuantizer.Quantize(Row(i), _q.AsSpan(i * Width, Width), _scales.AsSpan(i * blocks, blocks), _sums.AsSpan(i * blocks, blocks));
        _quantized = true;
    }

    /// <summary>Makes the quantization buffers for <see cref="Count"/> rows (before <see cref="QuantizeBlocks"/> runs on several threads).</summary>
    internal void EnsureBuffers()
    {
        if (Width % 32 != 0) throw new InvalidOperationException($"quantized weights need rows that are a multiple of 32 long, this one is {Width}");
        int blocks = Width / 32;
        if (_q.Length < Count * Width)
        {
            _q = new sbyte[Count * Width];
            _scales = new float[Count * blocks];
            _sums = new int[Count * blocks];
        }
    }

    /// <summary>
    /// Quantizes blocks [<paramref name="first"/>, <paramref name="first"/> + <paramref name="count"/>) of row 0, for a
    /// producer that writes the row in pieces (each block's quantization depends on its 32 floats only, so the result
    /// is <see cref="EnsureQuantized"/>'s); after <see cref="EnsureBuffers"/>, then <see cref="MarkQuantized"/> once all are done.
    /// </summary>
    internal void QuantizeBlocks(int first, int count) =>
        ActivationQuantizer.Quantize(Data.AsSpan(first * 32, count * 32), _q.AsSpan(first * 32, count * 32), _scales.AsSpan(first, count), _sums.AsSpan(first, count));

    /// <summary>Whether the quantized rows are current (<see cref="EnsureQuantized"/> or <see cref="MarkQuantized"/> since the last change).</summary>
    internal bool IsQuantized => _quantized;

    /// <summary>Quantizes rows [<paramref name="first"/>, <paramref name="first"/> + <paramref name="count"/>), for several
    /// threads splitting <see cref="EnsureQuantized"/>'s work (each row's blocks depend on that row only); after
    /// <see cref="EnsureBuffers"/>, then <see cref="MarkQuantized"/> once all are done.</summary>
    internal void QuantizeRows(int first, int count)
    {
        int blocks = Width / 32;
        for (int i = first; i < first + count; i++)
            ActivationQuantizer.Quantize(Row(i), _q.AsSpan(i * Width, Width), _scales.AsSpan(i * blocks, blocks), _sums.AsSpan(i * blocks, blocks));
    }

    /// <summary>Whether the token lanes are current.</summary>
    internal bool HasQ4_0Lanes => _lanesReady;

    /// <summary>Makes the token-lane buffer (before <see cref="PrepareQ4_0LaneGroups"/> runs on several threads).</summary>
    internal void EnsureLaneBuffer()
    {
        int bytes = RowDot.Q4_0TokenLanesBytes(Count, Width);
        if (_lanes.Length < bytes) _lanes = new byte[bytes];
    }

    /// <summary>Lays out 8-token groups [<paramref name="first"/>, <paramref name="first"/> + <paramref name="count"/>) in
    /// token lanes (quantized rows current, after <see cref="EnsureLaneBuffer"/>); <see cref="MarkQ4_0Lanes"/> once all are done.</summary>
    internal void PrepareQ4_0LaneGroups(int first, int count) =>
        RowDot.PrepareQ4_0TokenLanes(QuantizedAll, ScalesAll, Count, Width, _lanes, first, count);

    internal void MarkQ4_0Lanes() => _lanesReady = true;

    internal void MarkQuantized()
    {
        _quantized = true;
        _lanesReady = false;
    }

    /// <summary>
    /// Quantizes (if needed) and lays the inputs out in <see cref="RowDot.PrepareQ4_0TokenLanes"/>'s token lanes, once
    /// for every Q4_0 product that reads them (idempotent until the data changes).
    /// </summary>
    public void EnsureQ4_0Lanes()
    {
        EnsureQuantized();
        if (_lanesReady) return;
        EnsureLaneBuffer();
        RowDot.PrepareQ4_0TokenLanes(QuantizedAll, ScalesAll, Count, Width, _lanes);
        _lanesReady = true;
    }

    /// <summary>The token lanes of <see cref="EnsureQ4_0Lanes"/>.</summary>
    public ReadOnlySpan<byte> Q4_0Lanes => _lanesReady ? _lanes.AsSpan(0, RowDot.Q4_0TokenLanesBytes(Count, Width)) : throw new InvalidOperationException("EnsureQ4_0Lanes first");

    /// <summary>Call after changing <see cref="Data"/>.</summary>
    public void Invalidate()
    {
        _quantized = false;
        _lanesReady = false;
    }

    /// <summary>Reuses this batch (its <see cref="Data"/> and quantization buffers) for <paramref name="count"/> rows.</summary>
    internal void Reset(int count)
    {
        if ((uint)count > (uint)(Data.Length / Math.Max(1, Width))) throw new ArgumentOutOfRangeException(nameof(count), $"{count} rows of {Width} do not fit in {Data.Length} floats");
        Count = count;
        _quantized = false;
        _lanesReady = false;
    }

    /// <summary>The quantized rows of all <see cref="Count"/> inputs, one after another (Count × Width).</summary>
    public ReadOnlySpan<sbyte> QuantizedAll => _q.AsSpan(0, Count * Width);
    /// <summary>The block scales of all inputs, one after another (Count × Width/32).</summary>
    public ReadOnlySpan<float> ScalesAll => _scales.AsSpan(0, Count * (Width / 32));
    /// <summary>The block sums of all inputs, one after another (Count × Width/32).</summary>
    public ReadOnlySpan<int> SumsAll => _sums.AsSpan(0, Count * (Width / 32));

    public ReadOnlySpan<sbyte> Quantized(int i) => _q.AsSpan(i * Width, Width);
    public ReadOnlySpan<float> Scales(int i) => _scales.AsSpan(i * (Width / 32), Width / 32);
    public ReadOnlySpan<int> Sums(int i) => _sums.AsSpan(i * (Width / 32), Width / 32);
}
