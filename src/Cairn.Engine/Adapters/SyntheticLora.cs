using Cairn.Engine.Gguf;
using Cairn.Engine.Models;
using Cairn.Engine.Sampling;
using Cairn.Engine.Tensors;

namespace Cairn.Engine.Adapters;

/// <summary>What <see cref="SyntheticLora.Write"/> makes: random low-rank updates of chosen matrices.</summary>
public sealed record SyntheticLoraSpec
{
    public LoraTarget[] Targets { get; init; } = [LoraTarget.AttnQ, LoraTarget.AttnV, LoraTarget.FfnUp];
    /// <summary>Layers to adapt; null: every layer.</summary>
    public int[]? Layers { get; init; }
    public int Rank { get; init; } = 4;
    public float Alpha { get; init; } = 8f;
    /// <summary>Magnitude of the entries of A and B.</summary>
    public float Magnitude { get; init; } = 0.1f;
    /// <summary>F32 or F16 (what llama.cpp's converter writes by default).</summary>
    public GgmlType Type { get; init; } = GgmlType.F32;
    /// <summary>B = 0 (the update is zero; as a freshly initialised LoRA).</summary>
    public bool ZeroB { get; init; }
    public ulong Seed { get; init; } = 1;
}

/// <summary>
/// Writes a LoRA adapter GGUF in llama.cpp's layout (<see cref="LoraAdapter"/>) for a model of
/// <paramref name="config"/>: tests and <c>cairn synthesize --lora</c> need no downloads.
/// </summary>
public static class SyntheticLora
{
    public static void Write(string path, ModelConfig config, SyntheticLoraSpec spec)
    {
        if (spec.Type is not (GgmlType.F32 or GgmlType.F16)) throw new ArgumentException($"synthetic adapters are F32 or F16, not {spec.Type}");
        var rng = new Xoshiro256StarStar(spec.Seed);
        var w = new GgufWriter()
            .Set("general.architecture", config.Architecture)
            .Set("general.type", "adapter")
            .Set("general.name", Path.GetFileNameWithoutExtension(path))
            .Set("adapter.type", "lora")
            .Set("adapter.lora.alpha", spec.Alpha);
        int r = spec.Rank;
        foreach (int layer in spec.Layers ?? Enumerable.Range(0, config.Layers).ToArray())
        {
            foreach (var target in spec.Targets)
            {
                var (rows, cols) = LoraAdapter.Shape(config, target);
                string name = $"blk.{layer}.{LoraAdapter.TensorName(target)}.weight";
                w.AddTensor(name + ".lora_a", spec.Type, [cols, r], Values(ref rng, (long)cols * r, spec.Magnitude, spec.Type));
                w.AddTensor(name + ".lora_b", spec.Type, [r, rows], Values(ref rng, (long)r * rows, spec.ZeroB ? 0f : spec.Magnitude, spec.Type));
            }
        }
        w.Write(path);
    }

    private static byte[] Values(ref Xoshiro256StarStar rng, long n, float magnitude, GgmlType type)
    {
        int size = type == GgmlType.F32 ? 4 : 2;
        var bytes = new byte[n * size];
        for (long i = 0; i < n; i++)
        {
            float v = magnitude * (rng.NextUnitFloat() * 2f - 1f);
            if (type == GgmlType.F32) BitConverter.TryWriteBytes(bytes.AsSpan((int)(i * 4)), v);
            else BitConverter.TryWriteBytes(bytes.AsSpan((int)(i * 2)), BitConverter.HalfToUInt16Bits((Half)v));
        }
        return bytes;
    }
}
