namespace Cairn.Engine.Models;

/// <summary>Hyper-parameters of a Llama-family transformer, read from GGUF metadata or a llama2.c header.</summary>
public sealed record ModelConfig
{
    public required string Architecture { get; init; }
    public required int Dim { get; init; }
    public required int HiddenDim { get; init; }
    public required int Layers { get; init; }
    public required int Heads { get; init; }
    public required int KvHeads { get; init; }
    public required int HeadDim { get; init; }
    public required int VocabSize { get; init; }
    public required int ContextLength { get; init; }
    public float RmsEps { get; init; } = 1e-5f;
    public float RopeBase { get; init; } = 10000f;
    /// <summary>Multiplier of positions (1 / linear scaling factor).</summary>
    public float RopeFreqScale { get; init; } = 1f;
    /// <summary>Dimensions of a head that RoPE rotates (the rest pass through).</summary>
    public int RopeDims { get; init; }
    public RopeStyle RopeStyle { get; init; } = RopeStyle.Normal;

    public int KvDim => KvHeads * HeadDim;
    public int QDim => Heads * HeadDim;

    /// <summary>Checks the relations every forward pass relies on; throws naming the offending value.</summary>
    public void Validate(string source)
    {
        void Fail(string what) => throw new Gguf.GgufFormatException($"{source}: {what}");
        if (Dim is <= 0 or > 1 << 16) Fail($"embedding length {Dim} is out of range (1 to 65536)");
        if (HiddenDim is <= 0 or > 1 << 18) Fail($"feed-forward length {HiddenDim} is out of range (1 to 262144)");
        if (Layers is <= 0 or > 1024) Fail($"block count {Layers} is out of range (1 to 1024)");
        if (Heads is <= 0 or > 1024) Fail($"head count {Heads} is out of range (1 to 1024)");
        if (KvHeads <= 0 || KvHeads > Heads || Heads % KvHeads != 0) Fail($"head_count_kv {KvHeads} must divide head count {Heads}");
        if (HeadDim <= 0 || HeadDim % 2 != 0 || HeadDim > 4096) Fail($"head dimension {HeadDim} must be even and at most 4096");
        if ((long)Heads * HeadDim > 1 << 16) Fail($"{Heads} heads of {HeadDim} make a query of {(long)Heads * HeadDim} values (at most 65536)");
        if (RopeDims <= 0 || RopeDims > HeadDim || RopeDims % 2 != 0) Fail($"rope dimension count {RopeDims} must be even and at most the head dimension {HeadDim}");
        if (VocabSize is <= 0 or > 1 << 22) Fail($"vocabulary size {VocabSize} is out of range (1 to 4194304)");
        if (ContextLength is <= 0 or > 1 << 22) Fail($"context length {ContextLength} is out of range (1 to 4194304)");
        if (!(RmsEps > 0 && RmsEps < 1)) Fail($"RMS epsilon {RmsEps} is out of range (0, 1)");
        if (!(RopeBase > 1 && float.IsFinite(RopeBase))) Fail($"RoPE base {RopeBase} must be a finite number above 1");
        if (!(RopeFreqScale > 0 && float.IsFinite(RopeFreqScale))) Fail($"RoPE frequency scale {RopeFreqScale} must be positive");
    }
}
