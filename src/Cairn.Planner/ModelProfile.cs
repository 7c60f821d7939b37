using Cairn.Engine.Gguf;

namespace Cairn.Planner;

/// <summary>
/// The planner's view of a model: per-layer weight bytes, FLOPs and KV cache, plus what the first stage (token
/// embedding) and the last stage (output norm and head) add. Read from a GGUF file's tensor table and a few
/// metadata keys (<see cref="FromGguf(string)"/>), or built directly for tests and synthetic instances.
/// </summary>
public sealed record ModelProfile
{
    public required string Name { get; init; }
    public required IReadOnlyList<LayerProfile> Layers { get; init; }
    /// <summary>Hidden size; the activation passed between stages is <c>Dim</c> f32 values per token.</summary>
    public required int Dim { get; init; }
    public required int ContextLength { get; init; }
    /// <summary>Bytes only the first stage holds (the token embedding matrix).</summary>
    public required long FirstStageBytes { get; init; }
    /// <summary>Bytes only the last stage holds (output norm and output head; the embedding again when the head is tied).</summary>
    public required long LastStageBytes { get; init; }
    /// <summary>Bytes counted in both <see cref="FirstStageBytes"/> and <see cref="LastStageBytes"/> (a tied head), held once when one device runs both.</summary>
    public long SharedFirstLastBytes { get; init; }
    /// <summary>Bytes every stage holds (tensors outside the blocks that every block uses, e.g. <c>rope_freqs</c>).</summary>
    public long EveryStageBytes { get; init; }
    /// <summary>Bytes the first stage reads per token (one embedding row).</summary>
    public double FirstStageReadBytesPerToken { get; init; }
    /// <summary>Bytes the last stage reads per token (the whole output norm and head).</summary>
    public double LastStageReadBytesPerToken { get; init; }
    /// <summary>FLOPs of the output head per token (2 × vocabulary × dim).</summary>
    public double LastStageFlopsPerToken { get; init; }

    public int LayerCount => Layers.Count;

    /// <summary>Activation bytes per token sent from one stage to the next (dim × 4, f32).</summary>
    public long ActivationBytesPerToken => (long)Dim * 4;

    /// <summary>Bytes the last stage sends back per token: a token id.</summary>
    public const long TokenBytes = 4;

    public long TotalWeightBytes
    {
        get
        {
            long sum = FirstStageBytes + LastStageBytes - SharedFirstLastBytes + EveryStageBytes;
            foreach (var l in Layers) sum += l.WeightBytes;
            return sum;
        }
    }

    /// <summary>Reads the profile of a GGUF model from its tensor table (no tensor data is touched).</summary>
    public static ModelProfile FromGguf(string path)
    {
        using var file = GgufFile.Open(path);
        return FromGguf(file);
    }

    public static ModelProfile FromGguf(GgufFile file) => GgufProfileReader.Read(file);
}
