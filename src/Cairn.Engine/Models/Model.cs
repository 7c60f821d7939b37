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

    internal Model(string source, ModelConfig config, Weight tokenEmbedding, LayerWeights[] layers, float[] outputNorm,
        Weight output, Tokenizer? tokenizer, float[]? ropeFreqFactors, IDisposable? owner, string? chatTemplateSource = null)
    {
        ChatTemplateSource = chatTemplateSource;
        Source = source;
        Config = config;
        TokenEmbedding = tokenEmbedding;
        Layers = layers;
        OutputNorm = outputNorm;
        Output = output;
        Tokenizer = tokenizer;
        RopeFreqFactors = ropeFreqFactors;
        _owner = owner;
    }

    public string Source { get; }
    public ModelConfig Config { get; }
    public Weight TokenEmbedding { get; }   // (vocab, dim)
    public IReadOnlyList<LayerWeights> Layers { get; }
    public float[] OutputNorm { get; }       // (dim)
    public Weight Output { get; }            // (vocab, dim); the token embedding when tied
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

    public void Dispose() => _owner?.Dispose();
}
