using Cairn.Engine.Gguf;
using Cairn.Engine.Tokenization;

namespace Cairn.Engine.Models;

/// <summary>
/// A loaded Llama-family model: configuration, weights and tokenizer. Weights point into the memory-mapped GGUF
/// (or native memory for llama2.c checkpoints), so a model must be disposed when no longer used.
/// </summary>
public sealed class Model : IDisposable
{
    private readonly IDisposable? _owner;
    private readonly Weight? _tokenEmbedding;
    private readonly float[]? _outputNorm;
    private readonly Weight? _output;

    internal Model(string source, ModelConfig config, Weight? tokenEmbedding, LayerWeights[] layers, float[]? outputNorm,
        Weight? output, Tokenizer? tokenizer, float[]? ropeFreqFactors, IDisposable? owner, string? chatTemplateSource = null,
        int firstLayer = 0, long weightBytes = 0)
    {
        if (firstLayer < 0 || firstLayer + layers.Length > config.Layers)
            throw new ArgumentOutOfRangeException(nameof(firstLayer), $"layers [{firstLayer}, {firstLayer + layers.Length}) are not within [0, {config.Layers})");
        ChatTemplateSource = chatTemplateSource;
        Source = source;
        Config = config;
        _tokenEmbedding = tokenEmbedding;
        Layers = layers;
        FirstLayer = firstLayer;
        _outputNorm = outputNorm;
        _output = output;
        Tokenizer = tokenizer;
        RopeFreqFactors = ropeFreqFactors;
        WeightBytes = weightBytes;
        _owner = owner;
    }

    public string Source { get; }
    public ModelConfig Config { get; }
    /// <summary>The token embedding (vocab, dim); only the first stage of a split model holds it.</summary>
    public Weight TokenEmbedding => _tokenEmbedding ?? throw NotHeld("token_embd.weight");
    /// <summary>The layers held, <see cref="FirstLayer"/> to <see cref="EndLayer"/> − 1 (all of them unless loaded as a stage).</summary>
    public IReadOnlyList<LayerWeights> Layers { get; }
    /// <summary>The final norm (dim); only the last stage of a split model holds it.</summary>
    public float[] OutputNorm => _outputNorm ?? throw NotHeld("output_norm.weight");
    /// <summary>The output head (vocab, dim), the token embedding when tied; only the last stage of a split model holds it.</summary>
    public Weight Output => _output ?? throw NotHeld("output.weight");
    /// <summary>The first layer held (0 unless loaded as a pipeline stage, <see cref="LoadStage"/>).</summary>
    public int FirstLayer { get; }
    /// <summary>One past the last layer held.</summary>
    public int EndLayer => FirstLayer + Layers.Count;
    /// <summary>Whether the token embedding is held (the first stage, or the whole model).</summary>
    public bool HasEmbedding => _tokenEmbedding != null;
    /// <summary>Whether the final norm and output head are held (the last stage, or the whole model).</summary>
    public bool HasHead => _output != null && _outputNorm != null;
    /// <summary>Whether every layer, the embedding and the head are held.</summary>
    public bool IsWhole => FirstLayer == 0 && EndLayer == Config.Layers && HasEmbedding && HasHead;
    /// <summary>Bytes of the weight tensors this model uses, as stored in the file (0 when not measured: llama2.c checkpoints).</summary>
    public long WeightBytes { get; }

    /// <summary>The weights of layer <paramref name="layer"/> (a model-wide index); the layer must be held.</summary>
    public LayerWeights Layer(int layer)
    {
        if (layer < FirstLayer || layer >= EndLayer)
            throw new InvalidOperationException($"{Source}: layer {layer} is not held here (this model holds layers [{FirstLayer}, {EndLayer}))");
        return Layers[layer - FirstLayer];
    }

    private InvalidOperationException NotHeld(string tensor) =>
        new($"{Source}: '{tensor}' is not held by this stage (layers [{FirstLayer}, {EndLayer}) of {Config.Layers})");
    public Tokenizer? Tokenizer { get; }
    /// <summary>Per-frequency divisors of RoPE (Llama 3.1's rope_freqs.weight), or null.</summary>
    public float[]? RopeFreqFactors { get; }
    /// <summary>The Jinja chat template of the file (<c>tokenizer.chat_template</c>), or null.</summary>
    public string? ChatTemplateSource { get; }

    /// <summary>Loads a <c>.gguf</c> file, or a llama2.c checkpoint <c>.bin</c> with its tokenizer file.</summary>
    public static Model Load(string path, string? llama2cTokenizerPath = null)
    {
        if (path.EndsWith(".bin", StringComparison.OrdinalIgnoreCase))
            return Llama2CCheckpoint.Load(path, llama2cTokenizerPath);
        var file = GgufFile.Open(path);
        try
        {
            return GgufModelLoader.Load(file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads only what a pipeline stage serving layers [<paramref name="firstLayer"/>, <paramref name="endLayer"/>) needs
    /// from a <c>.gguf</c> file: those layers' tensors, the token embedding if it is the first stage (0), the final norm
    /// and output head if it is the last. The other tensors are never touched, so they never become resident.
    /// </summary>
    public static Model LoadStage(string path, int firstLayer, int endLayer)
    {
        var file = GgufFile.Open(path);
        try
        {
            return GgufModelLoader.Load(file, firstLayer, endLayer);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public void Dispose() => _owner?.Dispose();
}
