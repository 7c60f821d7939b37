namespace Cairn.Engine.Adapters;

/// <summary>The matrices of a transformer block a LoRA adapter may change (llama.cpp's tensor names).</summary>
public enum LoraTarget
{
    AttnQ,      // blk.N.attn_q.weight
    AttnK,      // blk.N.attn_k.weight
    AttnV,      // blk.N.attn_v.weight
    AttnOutput, // blk.N.attn_output.weight
    FfnGate,    // blk.N.ffn_gate.weight
    FfnDown,    // blk.N.ffn_down.weight
    FfnUp,      // blk.N.ffn_up.weight
}
