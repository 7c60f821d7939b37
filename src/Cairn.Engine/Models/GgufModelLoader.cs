using Cairn.Engine.Gguf;
using Cairn.Engine.Tensors;
using Cairn.Engine.Tokenization;

namespace Cairn.Engine.Models;

/// <summary>
/// Builds a <see cref="Model"/> from GGUF metadata and tensors. Architectures differ only in a few switches
/// (see <see cref="ArchitectureTraits"/>); every tensor's presence, type and shape is checked with an error
/// naming the file and the tensor.
/// </summary>
internal static unsafe class GgufModelLoader
{
    public static Model Load(GgufFile file) => Load(file, 0, int.MaxValue);

    /// <summary>
    /// Loads layers [<paramref name="firstLayer"/>, <paramref name="endLayer"/>) (<see cref="int.MaxValue"/>: to the
    /// last), the embedding only if the range starts at 0 and the final norm and head only if it ends at the last layer.
    /// Tensors of other layers are skipped (not even mapped into use); any other unknown tensor is still refused.
    /// </summary>
    public static Model Load(GgufFile file, int firstLayer, int endLayer)
    {
        string arch = file.GetString("general.architecture");
        var traits = ArchitectureTraits.For(arch)
            ?? throw new GgufFormatException($"{file.Path}: architecture '{arch}' is not supported (supported: {string.Join(", ", ArchitectureTraits.Names)})");

        int dim = file.GetInt32($"{arch}.embedding_length", 1, 1 << 16);
        int heads = file.GetInt32($"{arch}.attention.head_count", 1, 1024);
        int headDim = file.GetInt32($"{arch}.attention.key_length", 1, 4096, dim / heads);
        var tokenEmbd = file.GetTensor("token_embd.weight");
        int vocab = (int)Math.Min(tokenEmbd.Rows, int.MaxValue);
        var config = new ModelConfig
        {
            Architecture = arch,
            Dim = dim,
            HiddenDim = file.GetInt32($"{arch}.feed_forward_length", 1, 1 << 18),
            Layers = file.GetInt32($"{arch}.block_count", 1, 1024),
            Heads = heads,
            KvHeads = file.GetInt32($"{arch}.attention.head_count_kv", 1, 1024, heads),
            HeadDim = headDim,
            VocabSize = vocab,
            ContextLength = file.GetInt32($"{arch}.context_length", 1, 1 << 22, 2048),
            RmsEps = (float)(file.TryGetNumber($"{arch}.attention.layer_norm_rms_epsilon") ?? 1e-5),
            RopeBase = (float)(file.TryGetNumber($"{arch}.rope.freq_base") ?? 10000.0),
            RopeFreqScale = RopeScale(file, arch),
            RopeDims = file.GetInt32($"{arch}.rope.dimension_count", 2, 4096, headDim),
            RopeStyle = traits.Rope,
        };
        config.Validate(file.Path);
        if (file.TryGetInteger($"{arch}.vocab_size") is long declared && declared != vocab)
            throw new GgufFormatException($"{file.Path}: {arch}.vocab_size is {declared} but token_embd.weight has {vocab} rows");

        if (endLayer == int.MaxValue) endLayer = config.Layers;
        if (firstLayer < 0 || endLayer > config.Layers || firstLayer >= endLayer)
            throw new ArgumentOutOfRangeException(nameof(firstLayer), $"{file.Path}: layer range [{firstLayer}, {endLayer}) is not a non-empty range within [0, {config.Layers})");
        bool first = firstLayer == 0, last = endLayer == config.Layers;

        var used = new HashSet<string>(StringComparer.Ordinal);
        long weightBytes = 0;
        Weight Matrix(string name, int rows, int cols)
        {
            if (used.Add(name)) weightBytes += file.GetTensor(name).ByteSize;
            return LoadMatrix(file, name, rows, cols);
        }
        float[] Vector(string name, int n)
        {
            if (used.Add(name)) weightBytes += file.GetTensor(name).ByteSize;
            return LoadVector(file, name, n);
        }
        float[]? OptionalVector(string name, int n) => file.TryGetTensor(name, out _) ? Vector(name, n) : null;

        var layers = new LayerWeights[endLayer - firstLayer];
        for (int i = firstLayer; i < endLayer; i++)
        {
            string p = $"blk.{i}.";
            layers[i - firstLayer] = new LayerWeights
            {
                AttnNorm = Vector(p + "attn_norm.weight", dim),
                Wq = Matrix(p + "attn_q.weight", config.QDim, dim),
                Wk = Matrix(p + "attn_k.weight", config.KvDim, dim),
                Wv = Matrix(p + "attn_v.weight", config.KvDim, dim),
                Wo = Matrix(p + "attn_output.weight", dim, config.QDim),
                Bq = traits.QkvBias ? Vector(p + "attn_q.bias", config.QDim) : OptionalVector(p + "attn_q.bias", config.QDim),
                Bk = traits.QkvBias ? Vector(p + "attn_k.bias", config.KvDim) : OptionalVector(p + "attn_k.bias", config.KvDim),
                Bv = traits.QkvBias ? Vector(p + "attn_v.bias", config.KvDim) : OptionalVector(p + "attn_v.bias", config.KvDim),
                FfnNorm = Vector(p + "ffn_norm.weight", dim),
                Gate = Matrix(p + "ffn_gate.weight", config.HiddenDim, dim),
                Down = Matrix(p + "ffn_down.weight", dim, config.HiddenDim),
                Up = Matrix(p + "ffn_up.weight", config.HiddenDim, dim),
            };
        }
        bool tied = !file.TryGetTensor("output.weight", out _);
        var embedding = first || (last && tied) ? Matrix("token_embd.weight", vocab, dim) : null;
        var output = !last ? null : tied ? embedding : Matrix("output.weight", vocab, dim);
        var freqFactors = OptionalVector("rope_freqs.weight", config.RopeDims / 2);
        var outputNorm = last ? Vector("output_norm.weight", dim) : null;
        // A tensor the forward pass would ignore means a variant this code does not implement (output biases, MoE
        // experts, …): refuse it rather than compute something else. A stage skips the tensors of the other stages.
        foreach (var t in file.Tensors)
        {
            if (!used.Contains(t.Name) && !OtherStage(t.Name, firstLayer, endLayer, config.Layers))
                throw new GgufFormatException($"{file.Path}: tensor '{t.Name}' is not part of the {arch} architecture as Cairn implements it (an unsupported variant?)");
        }
        var tokenizer = file.Has("tokenizer.ggml.model") ? Tokenizer.FromGguf(file) : null;
        if (tokenizer != null && tokenizer.VocabSize != vocab)
            throw new GgufFormatException($"{file.Path}: the tokenizer has {tokenizer.VocabSize} tokens but token_embd.weight has {vocab} rows (they must be equal)");
        return new Model(file.Path, config, embedding, layers, outputNorm, output, tokenizer, freqFactors, file,
            file.TryGetString("tokenizer.chat_template"), firstLayer, weightBytes);
    }

    /// <summary>Whether a tensor this stage did not load belongs to another stage of a split (whose loader checks it).</summary>
    private static bool OtherStage(string name, int firstLayer, int endLayer, int layers)
    {
        if (firstLayer == 0 && endLayer == layers) return false;
        if (name is "token_embd.weight" or "output.weight" or "output_norm.weight") return true;
        if (!name.StartsWith("blk.", StringComparison.Ordinal)) return false;
        int dot = name.IndexOf('.', 4);
        return dot > 4 && int.TryParse(name.AsSpan(4, dot - 4), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int layer)
            && (layer < firstLayer || layer >= endLayer) && layer < layers;
    }

    private static float RopeScale(GgufFile file, string arch)
    {
        // As llama.cpp reads it: the type defaults to linear, the factor falls back to the legacy key rope.scale_linear,
        // and a factor of 0 (or none) means no scaling; freq_scale = 1 / factor whatever the (supported) type says.
        string? type = file.TryGetString($"{arch}.rope.scaling.type");
        double? factor = file.TryGetNumber($"{arch}.rope.scaling.factor") ?? file.TryGetNumber($"{arch}.rope.scale_linear");
        if (factor is null or 0 or 1) return 1f;
        if (type is not (null or "none" or "linear"))
            throw new GgufFormatException($"{file.Path}: {arch}.rope.scaling.type '{type}' is not supported (none, linear)");
        return (float)(1.0 / factor.Value);
    }

    private static Weight LoadMatrix(GgufFile file, string name, int rows, int cols)
    {
        var t = file.GetTensor(name);
        if (t.Dimensions.Length != 2 || t.Dimensions[0] != cols || t.Dimensions[1] != rows)
            throw new GgufFormatException($"{file.Path}: tensor '{name}' has shape {t.ShapeText}, expected [{cols}, {rows}]");
        RequireSupported(file, t);
        return new Weight(name, t.Type, rows, cols, file.TensorData(t));
    }

    private static float[] LoadVector(GgufFile file, string name, int n)
    {
        var t = file.GetTensor(name);
        if (t.ElementCount != n || t.Rows != 1)
            throw new GgufFormatException($"{file.Path}: tensor '{name}' has shape {t.ShapeText}, expected [{n}]");
        RequireSupported(file, t);
        return new Weight(name, t.Type, 1, n, file.TensorData(t)).ToFloatArray();
    }

    private static void RequireSupported(GgufFile file, GgufTensorInfo t)
    {
        if (!GgmlTypeInfo.IsSupported(t.Type))
            throw new GgufFormatException($"{file.Path}: tensor '{t.Name}' has weight type {t.Type}, which Cairn does not support (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K)");
    }
}
