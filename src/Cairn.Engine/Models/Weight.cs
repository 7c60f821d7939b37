using Cairn.Engine.Kernels;
using Cairn.Engine.Tensors;

namespace Cairn.Engine.Models;

/// <summary>
/// A weight matrix in its stored type: <see cref="Rows"/> output rows of <see cref="Cols"/> input elements each,
/// row-major as in GGUF (ggml dims [cols, rows]). The bytes belong to the model (a mapped file or native memory)
/// and stay valid while the model is alive.
/// </summary>
public sealed unsafe class Weight
{
    public Weight(string name, GgmlType type, int rows, int cols, byte* data)
    {
        Name = name;
        Type = type;
        Rows = rows;
        Cols = cols;
        RowBytes = GgmlTypeInfo.RowBytes(type, cols);
        Data = data;
    }

    public string Name { get; }
    public GgmlType Type { get; }
    public int Rows { get; }
    public int Cols { get; }
    public long RowBytes { get; }
    public byte* Data { get; }
    public long ByteSize => RowBytes * Rows;

    public ReadOnlySpan<byte> Row(int row) => new(Data + RowBytes * row, (int)RowBytes);

    /// <summary>Row <paramref name="row"/> converted to f32 (embedding lookups, norm vectors).</summary>
    public void DequantizeRow(int row, Span<float> destination) => Dequantize.Row(Type, Row(row), destination[..Cols]);

    /// <summary>The whole tensor as f32 (only for small vectors: norms, biases).</summary>
    public float[] ToFloatArray()
    {
        var result = new float[(long)Rows * Cols];
        for (int r = 0; r < Rows; r++) DequantizeRow(r, result.AsSpan(r * Cols, Cols));
        return result;
    }
}
