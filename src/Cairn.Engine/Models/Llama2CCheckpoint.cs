using System.Runtime.InteropServices;
using Cairn.Engine.Gguf;
using Cairn.Engine.Tensors;
using Cairn.Engine.Tokenization;

namespace Cairn.Engine.Models;

/// <summary>
/// Reads a llama2.c checkpoint (Karpathy's run.c format, version 0):
/// <code>
/// int32 dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size (negative: separate classifier), seq_len
/// float32 token_embedding[vocab][dim], rms_att[L][dim], wq[L][dim][dim], wk[L][kv_dim][dim], wv[L][kv_dim][dim],
///         wo[L][dim][dim], rms_ffn[L][dim], w1[L][hidden][dim], w2[L][dim][hidden], w3[L][hidden][dim], rms_final[dim],
///         freq_cis_real[seq_len][head_size/2], freq_cis_imag[seq_len][head_size/2] (unused), wcls[vocab][dim] (if not shared)
/// </code>
/// The weights are copied into native memory owned by the model.
/// </summary>
internal static unsafe class Llama2CCheckpoint
{
    public static Model Load(string path, string? tokenizerPath)
    {
        if (tokenizerPath is null)
            throw new ArgumentException($"{path}: a llama2.c checkpoint needs its tokenizer file (--tokenizer TOK.bin)");
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"{path}: no such model file", path);
        if (info.Length < 28) throw new GgufFormatException($"{path}: truncated: {info.Length} bytes, the llama2.c header takes 28");

        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        int dim = reader.ReadInt32(), hidden = reader.ReadInt32(), layers = reader.ReadInt32(), heads = reader.ReadInt32();
        int kvHeads = reader.ReadInt32(), vocabRaw = reader.ReadInt32(), seqLen = reader.ReadInt32();
        bool shared = vocabRaw > 0;
        int vocab = Math.Abs(vocabRaw == int.MinValue ? 0 : vocabRaw);
        if (heads <= 0 || dim % heads != 0)
            throw new GgufFormatException($"{path}: n_heads {heads} does not divide dim {dim}");
        var config = new ModelConfig
        {
            Architecture = "llama",
            Dim = dim,
            HiddenDim = hidden,
            Layers = layers,
            Heads = heads,
            KvHeads = kvHeads,
            HeadDim = dim / heads,
            VocabSize = vocab,
            ContextLength = seqLen,
            RopeDims = dim / heads,
        };
        config.Validate(path);

        long kvDim = config.KvDim, L = layers;
        long[] sizes =
        [
            (long)vocab * dim, L * dim, L * dim * dim, L * kvDim * dim, L * kvDim * dim, L * dim * dim, L * dim,
            L * hidden * dim, L * dim * hidden, L * hidden * dim, dim, (long)seqLen * (dim / heads / 2) * 2,
            shared ? 0 : (long)vocab * dim,
        ];
        long floats = sizes.Sum();
        long expected = 28 + floats * 4;
        if (info.Length != expected)
            throw new GgufFormatException($"{path}: {info.Length} bytes, but a llama2.c checkpoint of this header takes {expected}");

        if (floats * 4 > int.MaxValue) throw new GgufFormatException($"{path}: llama2.c checkpoints over 2 GiB are not supported; convert to GGUF");
        var memory = new NativeBuffer(floats * 4);
        try
        {
            stream.ReadExactly(new Span<byte>(memory.Pointer, (int)(floats * 4)));

            float* p = (float*)memory.Pointer;
            float* Next(long n) { float* r = p; p += n; return r; }
            Weight W(string name, float* data, int rows, int cols) => new(name, GgmlType.F32, rows, cols, (byte*)data);
            float[] V(float* data, int n) => new ReadOnlySpan<float>(data, n).ToArray();

            float* emb = Next(sizes[0]);
            float* rmsAtt = Next(sizes[1]);
            float* wq = Next(sizes[2]);
            float* wk = Next(sizes[3]);
            float* wv = Next(sizes[4]);
            float* wo = Next(sizes[5]);
            float* rmsFfn = Next(sizes[6]);
            float* w1 = Next(sizes[7]);
            float* w2 = Next(sizes[8]);
            float* w3 = Next(sizes[9]);
            float* rmsFinal = Next(sizes[10]);
            Next(sizes[11]);
            float* wcls = shared ? emb : Next(sizes[12]);

            var layerWeights = new LayerWeights[layers];
            for (int l = 0; l < layers; l++)
            {
                layerWeights[l] = new LayerWeights
                {
                    AttnNorm = V(rmsAtt + (long)l * dim, dim),
                    Wq = W($"wq[{l}]", wq + (long)l * dim * dim, dim, dim),
                    Wk = W($"wk[{l}]", wk + l * kvDim * dim, (int)kvDim, dim),
                    Wv = W($"wv[{l}]", wv + l * kvDim * dim, (int)kvDim, dim),
                    Wo = W($"wo[{l}]", wo + (long)l * dim * dim, dim, dim),
                    FfnNorm = V(rmsFfn + (long)l * dim, dim),
                    Gate = W($"w1[{l}]", w1 + (long)l * hidden * dim, hidden, dim),
                    Down = W($"w2[{l}]", w2 + (long)l * dim * hidden, dim, hidden),
                    Up = W($"w3[{l}]", w3 + (long)l * hidden * dim, hidden, dim),
                };
            }
            var tokenizer = Tokenizer.FromLlama2C(tokenizerPath, vocab);
            return new Model(path, config, W("token_embedding", emb, vocab, dim), layerWeights, V(rmsFinal, dim),
                W("wcls", wcls, vocab, dim), tokenizer, null, memory);
        }
        catch
        {
            memory.Dispose();
            throw;
        }
    }

    /// <summary>64-byte aligned native memory, freed on dispose.</summary>
    private sealed class NativeBuffer(long bytes) : IDisposable
    {
        public byte* Pointer { get; private set; } = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 1), 64);

        public void Dispose()
        {
            if (Pointer != null) NativeMemory.AlignedFree(Pointer);
            Pointer = null;
        }
    }
}
