using System.Globalization;
using System.Security.Cryptography;
using Cairn.Engine.Gguf;
using Cairn.Engine.Kernels;
using Cairn.Engine.Models;
using Cairn.Engine.Tensors;

namespace Cairn.Engine.Adapters;

/// <summary>
/// A LoRA adapter in llama.cpp's GGUF format (as written by <c>convert_lora_to_gguf.py</c>), loaded into memory.
/// <para>
/// Format: metadata <c>general.type = "adapter"</c>, <c>adapter.type = "lora"</c>, <c>adapter.lora.alpha</c> (float,
/// finite, ≥ 0), optionally <c>general.architecture</c> (must equal the base model's). For each adapted base matrix
/// W = <c>blk.N.{attn_q,attn_k,attn_v,attn_output,ffn_gate,ffn_down,ffn_up}.weight</c> of shape (rows, cols) two
/// tensors: <c>W.lora_a</c> with ggml dims [cols, r] (A, r × cols) and <c>W.lora_b</c> with dims [r, rows]
/// (B, rows × r), of any type the engine reads (dequantized to f32 here). Every tensor must belong to such a pair.
/// </para>
/// <para>
/// Math (DESIGN.md §3, docs/adapters.md): y = W·x + s·(B·(A·x)) with s = α / r (1 when α = 0, as llama.cpp), computed
/// after the base product: u_k = Dot.F32(A_k, x) for k = 0..r−1, then d_j = Dot.F32(B_j, u), then y_j = y_j + s·d_j
/// (product rounded, then the sum). Dot.F32 is the engine's 16-lane dot, bit-identical on every machine.
/// </para>
/// </summary>
public sealed class LoraAdapter
{
    /// <summary>Cairn's bound on a rank (ranks above a few hundred are not LoRA any more).</summary>
    public const int MaxRank = 4096;

    private readonly Dictionary<(int Layer, LoraTarget Target), LoraPair> _pairs;

    private LoraAdapter(string path, string name, byte[] hash, float alpha, string? architecture, Dictionary<(int, LoraTarget), LoraPair> pairs)
    {
        Path = path;
        Name = name;
        Hash = hash;
        Alpha = alpha;
        Architecture = architecture;
        _pairs = pairs;
        MaxLayer = pairs.Count == 0 ? -1 : pairs.Keys.Max(k => k.Item1);
    }

    public string Path { get; }
    /// <summary>The file name without <c>.gguf</c>: how requests name the adapter (<c>base+name</c>).</summary>
    public string Name { get; }
    /// <summary>SHA-256 of the file: the adapter's identity in requests, receipts and the registry.</summary>
    public byte[] Hash { get; }
    public string HashHex => Convert.ToHexStringLower(Hash);
    public float Alpha { get; }
    public string? Architecture { get; }
    public int MaxLayer { get; }
    public IEnumerable<LoraPair> Pairs => _pairs.Values.OrderBy(p => p.Layer).ThenBy(p => p.Target);
    public int Count => _pairs.Count;

    /// <summary>The update of <paramref name="target"/> in <paramref name="layer"/>, or null when the adapter leaves it alone.</summary>
    public LoraPair? Find(int layer, LoraTarget target) => _pairs.GetValueOrDefault((layer, target));

    public static LoraAdapter Load(string path)
    {
        byte[] hash;
        using (var stream = File.OpenRead(path)) hash = SHA256.HashData(stream);
        using var file = GgufFile.Open(path);
        string kind = file.TryGetString("general.type") ?? throw Bad(file, "general.type is missing; a LoRA adapter has general.type = \"adapter\"");
        if (kind != "adapter") throw Bad(file, $"general.type is \"{kind}\", a LoRA adapter has \"adapter\" (is this a base model?)");
        string adapterType = file.TryGetString("adapter.type") ?? throw Bad(file, "adapter.type is missing (expected \"lora\")");
        if (adapterType != "lora") throw Bad(file, $"adapter.type is \"{adapterType}\"; only \"lora\" is supported");
        double alpha = file.TryGetNumber("adapter.lora.alpha") ?? throw Bad(file, "adapter.lora.alpha is missing (a number)");
        if (!double.IsFinite(alpha) || alpha < 0 || alpha > float.MaxValue) throw Bad(file, $"adapter.lora.alpha is {alpha}, expected a finite number ≥ 0");

        var byName = new Dictionary<string, (GgufTensorInfo? A, GgufTensorInfo? B)>(StringComparer.Ordinal);
        foreach (var t in file.Tensors)
        {
            bool isA = t.Name.EndsWith(".lora_a", StringComparison.Ordinal), isB = t.Name.EndsWith(".lora_b", StringComparison.Ordinal);
            if (!isA && !isB) throw Bad(file, $"tensor '{t.Name}' is neither '<base>.lora_a' nor '<base>.lora_b'");
            string baseName = t.Name[..^".lora_a".Length];
            var entry = byName.GetValueOrDefault(baseName);
            byName[baseName] = isA ? (t, entry.B) : (entry.A, t);
        }
        if (byName.Count == 0) throw Bad(file, "the adapter has no tensors");
        var pairs = new Dictionary<(int, LoraTarget), LoraPair>();
        foreach (var (baseName, (a, b)) in byName.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (a is null || b is null) throw Bad(file, $"'{baseName}' has {(a is null ? "lora_b but no lora_a" : "lora_a but no lora_b")}");
            var (layer, target) = ParseBaseName(file, baseName);
            var pair = ReadPair(file, baseName, layer, target, (float)alpha, a, b);
            pairs[(layer, target)] = pair;
        }
        string name = System.IO.Path.GetFileNameWithoutExtension(path);
        return new LoraAdapter(path, name, hash, (float)alpha, file.TryGetString("general.architecture"), pairs);
    }

    /// <summary>
    /// Null when every pair names a matrix of <paramref name="config"/> with the shapes it has (and the architecture
    /// agrees), else what does not fit.
    /// </summary>
    public string? Misfit(ModelConfig config)
    {
        if (Architecture != null && Architecture != config.Architecture)
            return $"adapter {Name} is for architecture '{Architecture}', the model is '{config.Architecture}'";
        foreach (var p in Pairs)
        {
            if (p.Layer >= config.Layers) return $"adapter {Name} changes {p.BaseName}, but the model has {config.Layers} layers";
            var (rows, cols) = Shape(config, p.Target);
            if (p.Rows != rows || p.Cols != cols)
                return $"adapter {Name}: {p.BaseName} is {p.Rows} × {p.Cols} in the adapter (B rows × A cols), the model's is {rows} × {cols}";
        }
        return null;
    }

    /// <summary>(rows, cols) of a target in a model.</summary>
    public static (int Rows, int Cols) Shape(ModelConfig c, LoraTarget target) => target switch
    {
        LoraTarget.AttnQ => (c.QDim, c.Dim),
        LoraTarget.AttnK or LoraTarget.AttnV => (c.KvDim, c.Dim),
        LoraTarget.AttnOutput => (c.Dim, c.QDim),
        LoraTarget.FfnGate or LoraTarget.FfnUp => (c.HiddenDim, c.Dim),
        LoraTarget.FfnDown => (c.Dim, c.HiddenDim),
        _ => throw new ArgumentOutOfRangeException(nameof(target)),
    };

    /// <summary>llama.cpp's tensor name of a target without the <c>blk.N.</c> prefix and <c>.weight</c> suffix.</summary>
    public static string TensorName(LoraTarget target) => target switch
    {
        LoraTarget.AttnQ => "attn_q",
        LoraTarget.AttnK => "attn_k",
        LoraTarget.AttnV => "attn_v",
        LoraTarget.AttnOutput => "attn_output",
        LoraTarget.FfnGate => "ffn_gate",
        LoraTarget.FfnDown => "ffn_down",
        LoraTarget.FfnUp => "ffn_up",
        _ => throw new ArgumentOutOfRangeException(nameof(target)),
    };

    private static (int Layer, LoraTarget Target) ParseBaseName(GgufFile file, string baseName)
    {
        // blk.N.<target>.weight
        string[] parts = baseName.Split('.');
        if (parts.Length == 4 && parts[0] == "blk" && parts[3] == "weight"
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int layer) && layer < 1 << 16)
        {
            foreach (var target in Enum.GetValues<LoraTarget>())
            {
                if (TensorName(target) == parts[2]) return (layer, target);
            }
        }
        throw Bad(file, $"'{baseName}' is not a matrix Cairn can adapt (blk.N.{{attn_q,attn_k,attn_v,attn_output,ffn_gate,ffn_down,ffn_up}}.weight)");
    }

    private static LoraPair ReadPair(GgufFile file, string baseName, int layer, LoraTarget target, float alpha, GgufTensorInfo a, GgufTensorInfo b)
    {
        foreach (var t in (ReadOnlySpan<GgufTensorInfo>)[a, b])
        {
            if (t.Dimensions.Length != 2) throw Bad(file, $"tensor '{t.Name}' has shape {t.ShapeText}, a LoRA matrix has 2 dimensions");
            if (!GgmlTypeInfo.IsSupported(t.Type)) throw Bad(file, $"tensor '{t.Name}' has type {t.Type}, which Cairn does not read");
        }
        long cols = a.Dimensions[0], rank = a.Dimensions[1], rankB = b.Dimensions[0], rows = b.Dimensions[1];
        if (rank != rankB)
            throw Bad(file, $"'{baseName}': lora_a {a.ShapeText} has rank {rank} but lora_b {b.ShapeText} has {rankB} (expected lora_a [cols, r], lora_b [r, rows])");
        if (rank is < 1 or > MaxRank) throw Bad(file, $"'{baseName}': rank {rank} is out of range (1 to {MaxRank})");
        if (cols > 1 << 20 || rows > 1 << 20) throw Bad(file, $"'{baseName}': {rows} × {cols} is larger than any matrix Cairn runs");
        float scale = alpha == 0 ? 1f : alpha / rank;
        return new LoraPair(baseName, layer, target, (int)rows, (int)cols, (int)rank, scale,
                            ToFloats(file, a, (int)rank, (int)cols), ToFloats(file, b, (int)rows, (int)rank));
    }

    private static float[] ToFloats(GgufFile file, GgufTensorInfo t, int rows, int cols)
    {
        if (cols % GgmlTypeInfo.BlockSize(t.Type) != 0) throw Bad(file, $"tensor '{t.Name}': rows of {cols} are not whole {t.Type} blocks");
        var result = new float[(long)rows * cols];
        var bytes = file.TensorBytes(t);
        long rowBytes = GgmlTypeInfo.RowBytes(t.Type, cols);
        for (int r = 0; r < rows; r++) Dequantize.Row(t.Type, bytes.Slice((int)(r * rowBytes), (int)rowBytes), result.AsSpan(r * cols, cols));
        return result;
    }

    private static GgufFormatException Bad(GgufFile file, string message) => new($"{file.Path}: {message}");
}
