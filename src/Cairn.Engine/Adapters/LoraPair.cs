namespace Cairn.Engine.Adapters;

/// <summary>
/// One adapted matrix W (<see cref="Rows"/> × <see cref="Cols"/>): its low-rank update (α / r)·B·A, A and B in f32
/// (dequantized at load from the type the file stores).
/// </summary>
public sealed class LoraPair
{
    internal LoraPair(string baseName, int layer, LoraTarget target, int rows, int cols, int rank, float scale, float[] a, float[] b)
    {
        BaseName = baseName;
        Layer = layer;
        Target = target;
        Rows = rows;
        Cols = cols;
        Rank = rank;
        Scale = scale;
        A = a;
        B = b;
    }

    /// <summary>The base matrix's tensor name, e.g. <c>blk.0.attn_q.weight</c>.</summary>
    public string BaseName { get; }
    public int Layer { get; }
    public LoraTarget Target { get; }
    public int Rows { get; }
    public int Cols { get; }
    public int Rank { get; }
    /// <summary>α / r (llama.cpp: 1 when α is 0).</summary>
    public float Scale { get; }
    /// <summary>A, row-major (rank, cols): ggml dims [cols, rank], tensor <c>&lt;base&gt;.lora_a</c>.</summary>
    public float[] A { get; }
    /// <summary>B, row-major (rows, rank): ggml dims [rank, rows], tensor <c>&lt;base&gt;.lora_b</c>.</summary>
    public float[] B { get; }
}
