using System.Globalization;
using Cairn.Engine.Gguf;

namespace Cairn.Planner;

/// <summary>
/// Turns a GGUF tensor table into a <see cref="ModelProfile"/>. Every <c>blk.N.*</c> tensor belongs to layer N;
/// <c>token_embd</c> to the first stage; <c>output_norm</c> and <c>output</c> (or, when the head is tied, the
/// embedding again) to the last; anything else outside the blocks to every stage.
/// </summary>
internal static class GgufProfileReader
{
    public static ModelProfile Read(GgufFile file)
    {
        string arch = file.GetString("general.architecture");
        int dim = file.GetInt32($"{arch}.embedding_length", 1, 1 << 16);
        int layers = file.GetInt32($"{arch}.block_count", 1, 1024);
        int heads = file.GetInt32($"{arch}.attention.head_count", 1, 1024);
        int kvHeads = file.GetInt32($"{arch}.attention.head_count_kv", 1, 1024, heads);
        int headDim = file.GetInt32($"{arch}.attention.key_length", 1, 4096, dim / heads);
        int context = file.GetInt32($"{arch}.context_length", 1, 1 << 22, 2048);

        var bytes = new long[layers];
        var flops = new double[layers];
        long everyStage = 0, outputNorm = 0;
        GgufTensorInfo? embedding = null, output = null;
        foreach (var t in file.Tensors)
        {
            if (TryLayerIndex(t.Name, out int layer))
            {
                if (layer >= layers) throw new GgufFormatException($"{file.Path}: tensor '{t.Name}' names layer {layer} but {arch}.block_count is {layers}");
                bytes[layer] += t.ByteSize;
                // Matrices cost a multiply and an add per parameter; vectors (norms, biases) are negligible and left out.
                if (t.Dimensions.Length >= 2) flops[layer] += 2.0 * t.ElementCount;
            }
            else if (t.Name == "token_embd.weight") embedding = t;
            else if (t.Name == "output.weight") output = t;
            else if (t.Name == "output_norm.weight") outputNorm = t.ByteSize;
            else everyStage += t.ByteSize;
        }
        if (embedding is null) throw new GgufFormatException($"{file.Path}: tensor 'token_embd.weight' is missing");
        for (int i = 0; i < layers; i++)
        {
            if (bytes[i] == 0) throw new GgufFormatException($"{file.Path}: layer {i} has no tensors (block_count is {layers})");
        }
        long vocab = embedding.Rows;
        var head = output ?? embedding;
        // Attention per cached position: q·k over the query heads and the weighted sum of v, a multiply-add each.
        double attention = 4.0 * heads * headDim;
        long kvPerPosition = 2L * kvHeads * headDim * sizeof(float);
        var profiles = new LayerProfile[layers];
        for (int i = 0; i < layers; i++) profiles[i] = new LayerProfile(bytes[i], flops[i], attention, kvPerPosition);
        return new ModelProfile
        {
            Name = file.TryGetString("general.name") ?? Path.GetFileName(file.Path),
            Layers = profiles,
            Dim = dim,
            ContextLength = context,
            FirstStageBytes = embedding.ByteSize,
            LastStageBytes = outputNorm + head.ByteSize,
            SharedFirstLastBytes = output is null ? embedding.ByteSize : 0,
            EveryStageBytes = everyStage,
            FirstStageReadBytesPerToken = (double)embedding.ByteSize / Math.Max(1, vocab),
            LastStageReadBytesPerToken = outputNorm + head.ByteSize,
            LastStageFlopsPerToken = 2.0 * head.ElementCount,
        };
    }

    private static bool TryLayerIndex(string name, out int layer)
    {
        layer = -1;
        if (!name.StartsWith("blk.", StringComparison.Ordinal)) return false;
        int dot = name.IndexOf('.', 4);
        return dot > 4 && int.TryParse(name.AsSpan(4, dot - 4), NumberStyles.None, CultureInfo.InvariantCulture, out layer);
    }
}
