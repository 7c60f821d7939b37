namespace Cairn.Engine.Models;

/// <summary>How RoPE pairs the elements of a head: adjacent pairs (2i, 2i+1) as in Llama, or halves (i, i + d/2) as in GPT-NeoX and Qwen2.</summary>
public enum RopeStyle
{
    Normal,
    NeoX,
}
