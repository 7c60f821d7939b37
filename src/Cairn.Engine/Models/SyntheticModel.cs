using Cairn.Engine.Gguf;
using Cairn.Engine.Sampling;
using Cairn.Engine.Tensors;

namespace Cairn.Engine.Models;

/// <summary>Shape and weight type of a synthetic model.</summary>
public sealed record SyntheticModelSpec
{
    public string Architecture { get; init; } = "llama";
    public int Dim { get; init; } = 256;
    public int HiddenDim { get; init; } = 512;
    public int Layers { get; init; } = 2;
    public int Heads { get; init; } = 8;
    public int KvHeads { get; init; } = 4;
    public int ContextLength { get; init; } = 256;
    /// <summary>Vocabulary size; at least the 448 tokens of the base vocabulary, the rest filled with unique pieces.</summary>
    public int VocabSize { get; init; } = SyntheticModel.MinimumVocabSize;
    public GgmlType WeightType { get; init; } = GgmlType.F32;
    public bool TiedOutput { get; init; }
    public ulong Seed { get; init; } = 1;
    /// <summary>Per-tensor weight types that override <see cref="WeightType"/> (e.g. a Q4_K_M-style mix), by tensor name.</summary>
    public IReadOnlyDictionary<string, GgmlType>? TensorTypes { get; init; }
}

/// <summary>
/// Writes a GGUF model with random weights from a seed: any supported architecture, shape and weight type, with a
/// small SentencePiece vocabulary (control tokens, all 256 byte tokens and the printable ASCII characters with and
/// without the ▁ space marker). Quantized blocks are random but valid (finite, modest scales), so every kernel path
/// is exercised. Used by tests and by <c>cairn run</c> without <c>--model</c>.
/// </summary>
public static class SyntheticModel
{
    /// <summary>Control tokens, 256 byte tokens, 94 printable characters with and without ▁, and ▁ itself.</summary>
    public const int MinimumVocabSize = 448;

    /// <summary>Writes the model; <paramref name="progress"/>, if given, is told (matrices done, matrices in all) as it goes.</summary>
    public static void Write(string path, SyntheticModelSpec spec, Action<int, int>? progress = null)
    {
        var rng = new Xoshiro256StarStar(spec.Seed);
        if (spec.VocabSize < MinimumVocabSize) throw new ArgumentOutOfRangeException(nameof(spec), $"vocabulary size {spec.VocabSize} is below {MinimumVocabSize}");
        if (spec.Heads <= 0 || spec.Dim % spec.Heads != 0 || spec.KvHeads <= 0 || spec.Heads % spec.KvHeads != 0)
            throw new ArgumentOutOfRangeException(nameof(spec), $"heads {spec.Heads} must divide dim {spec.Dim}, and kv heads {spec.KvHeads} must divide heads");
        var (tokens, scores, types) = Vocabulary(spec.VocabSize);
        int vocab = tokens.Length, dim = spec.Dim, headDim = dim / spec.Heads, kvDim = spec.KvHeads * headDim;
        string a = spec.Architecture;
        var w = new GgufWriter()
            .Set("general.architecture", a)
            .Set("general.name", $"cairn-synthetic-{a}-{spec.WeightType}-seed{spec.Seed}")
            .Set($"{a}.context_length", (uint)spec.ContextLength)
            .Set($"{a}.embedding_length", (uint)dim)
            .Set($"{a}.feed_forward_length", (uint)spec.HiddenDim)
            .Set($"{a}.block_count", (uint)spec.Layers)
            .Set($"{a}.attention.head_count", (uint)spec.Heads)
            .Set($"{a}.attention.head_count_kv", (uint)spec.KvHeads)
            .Set($"{a}.attention.layer_norm_rms_epsilon", 1e-5f)
            .Set($"{a}.rope.freq_base", 10000f)
            .Set("tokenizer.ggml.model", "llama")
            .Set("tokenizer.ggml.tokens", tokens)
            .Set("tokenizer.ggml.scores", scores)
            .Set("tokenizer.ggml.token_type", types)
            .Set("tokenizer.ggml.bos_token_id", 1u)
            .Set("tokenizer.ggml.eos_token_id", 2u)
            .Set("tokenizer.ggml.unknown_token_id", 0u);

        int matrices = spec.Layers * 7 + (spec.TiedOutput ? 1 : 2), done = 0;
        void Matrix(string name, int rows, int cols)
        {
            GgmlType type = spec.TensorTypes != null && spec.TensorTypes.TryGetValue(name, out var t) ? t : spec.WeightType;
            w.AddTensor(name, type, [cols, rows], RandomBlocks(ref rng, type, (long)rows * cols, 0.08f));
            progress?.Invoke(++done, matrices);
        }
        void Norm(string name, int n) => w.AddTensor(name, GgmlType.F32, [n], FloatBytes(ref rng, n, 1f, 0.1f));
        void Bias(string name, int n) => w.AddTensor(name, GgmlType.F32, [n], FloatBytes(ref rng, n, 0f, 0.05f));

        Matrix("token_embd.weight", vocab, dim);
        for (int l = 0; l < spec.Layers; l++)
        {
            string p = $"blk.{l}.";
            Norm(p + "attn_norm.weight", dim);
            Matrix(p + "attn_q.weight", dim, dim);
            Matrix(p + "attn_k.weight", kvDim, dim);
            Matrix(p + "attn_v.weight", kvDim, dim);
            if (a == "qwen2")
            {
                Bias(p + "attn_q.bias", dim);
                Bias(p + "attn_k.bias", kvDim);
                Bias(p + "attn_v.bias", kvDim);
            }
            Matrix(p + "attn_output.weight", dim, dim);
            Norm(p + "ffn_norm.weight", dim);
            Matrix(p + "ffn_gate.weight", spec.HiddenDim, dim);
            Matrix(p + "ffn_down.weight", dim, spec.HiddenDim);
            Matrix(p + "ffn_up.weight", spec.HiddenDim, dim);
        }
        Norm("output_norm.weight", dim);
        if (!spec.TiedOutput) Matrix("output.weight", vocab, dim);
        w.Write(path);
    }

    private static (string[] Tokens, float[] Scores, int[] Types) Vocabulary(int size)
    {
        var tokens = new List<string> { "<unk>", "<s>", "</s>" };
        var types = new List<int> { 2, 3, 3 };
        for (int b = 0; b < 256; b++)
        {
            tokens.Add($"<0x{b:X2}>");
            types.Add(6);
        }
        for (char c = ' '; c <= '~'; c++)
        {
            if (c == ' ') continue;
            tokens.Add(c.ToString());
            types.Add(1);
            tokens.Add("\u2581" + c);
            types.Add(1);
        }
        tokens.Add("\u2581");
        types.Add(1);
        for (int i = tokens.Count; i < size; i++)
        {
            tokens.Add($"\u2581w{i}");
            types.Add(1);
        }
        var scores = tokens.Select((t, i) => types[i] == 1 ? -i / 10f : 0f).ToArray();
        return (tokens.ToArray(), scores, types.ToArray());
    }

    private static byte[] FloatBytes(ref Xoshiro256StarStar rng, int n, float center, float spread)
    {
        var bytes = new byte[n * 4];
        for (int i = 0; i < n; i++) BitConverter.TryWriteBytes(bytes.AsSpan(i * 4), center + spread * Symmetric(ref rng));
        return bytes;
    }

    private static float Symmetric(ref Xoshiro256StarStar rng) => rng.NextUnitFloat() * 2f - 1f;

    private static void WriteHalf(Span<byte> dst, float value) => BitConverter.TryWriteBytes(dst, BitConverter.HalfToUInt16Bits((Half)value));

    /// <summary>Random but valid data of <paramref name="type"/>, elements of magnitude about <paramref name="scale"/>.</summary>
    private static byte[] RandomBlocks(ref Xoshiro256StarStar rng, GgmlType type, long elements, float scale)
    {
        var bytes = new byte[GgmlTypeInfo.RowBytes(type, elements)];
        switch (type)
        {
            case GgmlType.F32:
                for (long i = 0; i < elements; i++) BitConverter.TryWriteBytes(bytes.AsSpan((int)(i * 4)), scale * Symmetric(ref rng));
                break;
            case GgmlType.F16:
                for (long i = 0; i < elements; i++) WriteHalf(bytes.AsSpan((int)(i * 2)), scale * Symmetric(ref rng));
                break;
            case GgmlType.BF16:
                for (long i = 0; i < elements; i++)
                    BitConverter.TryWriteBytes(bytes.AsSpan((int)(i * 2)), (ushort)(BitConverter.SingleToUInt32Bits(scale * Symmetric(ref rng)) >> 16));
                break;
            default:
                int blockBytes = GgmlTypeInfo.BlockBytes(type);
                for (int off = 0; off < bytes.Length; off += blockBytes) RandomBlock(ref rng, type, bytes.AsSpan(off, blockBytes), scale);
                break;
        }
        return bytes;
    }

    private static void RandomBlock(ref Xoshiro256StarStar rng, GgmlType type, Span<byte> block, float scale)
    {
        for (int i = 0; i < block.Length; i++) block[i] = (byte)rng.Next();
        float d = scale * (0.5f + rng.NextUnitFloat());
        switch (type)
        {
            case GgmlType.Q8_0:
                WriteHalf(block, d / 127f);
                break;
            case GgmlType.Q4_0:
                WriteHalf(block, d / 8f);
                break;
            case GgmlType.Q4_K:
                WriteHalf(block, d / (15f * 32f));        // d · 6-bit scale · 4-bit quant ≈ d
                WriteHalf(block[2..], d / (2f * 32f));    // dmin · 6-bit min ≈ d/2
                break;
            case GgmlType.Q6_K:
                for (int i = 192; i < 208; i++) block[i] = (byte)(sbyte)((int)(rng.Next() % 64) - 32); // int8 sub-block scales in [-32, 31]
                WriteHalf(block[208..], d / (32f * 32f));
                break;
            default:
                throw new NotSupportedException($"synthetic weights of type {type} are not supported");
        }
    }
}
