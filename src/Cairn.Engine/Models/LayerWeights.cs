namespace Cairn.Engine.Models;

/// <summary>The weights of one transformer block (names follow llama.cpp's: blk.N.attn_q.weight, …).</summary>
public sealed class LayerWeights
{
    public required float[] AttnNorm { get; init; }  // (dim)
    public required Weight Wq { get; init; }          // (n_heads * head_dim, dim)
    public required Weight Wk { get; init; }          // (n_kv_heads * head_dim, dim)
    public required Weight Wv { get; init; }          // (n_kv_heads * head_dim, dim)
    public required Weight Wo { get; init; }          // (dim, n_heads * head_dim)
    public float[]? Bq { get; init; }                 // (n_heads * head_dim), qwen2
    public float[]? Bk { get; init; }                 // (n_kv_heads * head_dim), qwen2
    public float[]? Bv { get; init; }                 // (n_kv_heads * head_dim), qwen2
    public required float[] FfnNorm { get; init; }   // (dim)
    public required Weight Gate { get; init; }        // w1 (hidden_dim, dim)
    public required Weight Down { get; init; }        // w2 (dim, hidden_dim)
    public required Weight Up { get; init; }          // w3 (hidden_dim, dim)
}
