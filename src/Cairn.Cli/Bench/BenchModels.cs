using System.Globalization;
using Cairn.Engine.Models;
using Cairn.Engine.Tensors;

namespace Cairn.Cli.Bench;

/// <summary>
/// The synthetic models of <c>cairn bench --model synthetic:SHAPE:TYPE</c>: random weights in a real model's shape,
/// written once to a cache folder (<c>$XDG_CACHE_HOME/cairn/models</c>, else <c>~/.cache/cairn/models</c>) and reused.
/// <para>Shapes: <c>tiny</c> (dim 256, hidden 768, 2 layers, for tests), <c>110m</c> (dim 768, hidden 2048, 12 layers,
/// 12 heads, vocab 32000) and <c>1.1b</c> (TinyLlama: dim 2048, hidden 5632, 22 layers, 32 heads, 4 kv heads, vocab
/// 32000); all untied, context 2048. Types: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K and Q4_K_M, llama.cpp's mix:
/// Q4_K everywhere except Q6_K for the output head and for attn_v and ffn_down in the layers llama.cpp's
/// <c>use_more_bits</c> picks (the first and last eighth of the layers and every third one in between).</para>
/// </summary>
internal static class BenchModels
{
    public const string Prefix = "synthetic:";

    /// <summary>Bumped whenever the bytes of a synthetic model would change, so that stale cached files are not reused.</summary>
    private const int FormatVersion = 1;

    private static readonly Dictionary<string, SyntheticModelSpec> Shapes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["tiny"] = new() { Dim = 256, HiddenDim = 768, Layers = 2, Heads = 8, KvHeads = 4, VocabSize = 512, ContextLength = 2048 },
        ["110m"] = new() { Dim = 768, HiddenDim = 2048, Layers = 12, Heads = 12, KvHeads = 12, VocabSize = 32000, ContextLength = 2048 },
        ["1.1b"] = new() { Dim = 2048, HiddenDim = 5632, Layers = 22, Heads = 32, KvHeads = 4, VocabSize = 32000, ContextLength = 2048 },
    };

    private static readonly string[] Types = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q6_K", "Q4_K_M"];

    public static bool IsSynthetic(string model) => model.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses <c>synthetic:SHAPE:TYPE</c>; an <see cref="ArgumentException"/> names what is wrong and what is allowed.</summary>
    public static (string Shape, string Type, SyntheticModelSpec Spec) Parse(string model)
    {
        string[] parts = model.Split(':');
        if (parts.Length != 3 || !IsSynthetic(model))
            throw new ArgumentException($"--model '{model}' is not of the form synthetic:SHAPE:TYPE (for example synthetic:1.1b:Q4_0)");
        if (!Shapes.TryGetValue(parts[1], out var shape))
            throw new ArgumentException($"synthetic shape '{parts[1]}' is unknown (known: {string.Join(", ", Shapes.Keys)})");
        string? type = Types.FirstOrDefault(t => string.Equals(t, parts[2], StringComparison.OrdinalIgnoreCase));
        if (type == null)
            throw new ArgumentException($"synthetic weight type '{parts[2]}' is unknown (known: {string.Join(", ", Types)})");
        var spec = type == "Q4_K_M"
            ? shape with { WeightType = GgmlType.Q4_K, TensorTypes = Q4KMediumTypes(shape.Layers) }
            : shape with { WeightType = Enum.Parse<GgmlType>(type) };
        return (parts[1].ToLowerInvariant(), type, spec);
    }

    /// <summary>The cached file of a synthetic model, written first (with progress on standard error) if absent.</summary>
    public static string Ensure(string model, TextWriter progress)
    {
        string path = CachedPath(model);
        if (File.Exists(path)) return path;
        var (_, _, spec) = Parse(model);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);

        progress.WriteLine($"bench: writing {model} to {path} (once; later runs reuse it)");
        string temp = $"{path}.{Environment.ProcessId}.tmp";
        try
        {
            int lastPercent = -1;
            SyntheticModel.Write(temp, spec, (done, all) =>
            {
                int percent = 100 * done / all;
                if (percent / 10 == lastPercent / 10 && done != all) return;
                lastPercent = percent;
                progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bench: generating weights {percent}% ({done}/{all} matrices)"));
            });
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
        return path;
    }

    /// <summary>Where the cached file of a synthetic model is (whether or not it exists yet).</summary>
    public static string CachedPath(string model)
    {
        var (shape, type, spec) = Parse(model);
        return Path.Combine(CacheFolder(), $"synthetic-{shape}-{type}-seed{spec.Seed}-v{FormatVersion}.gguf");
    }

    private static string CacheFolder()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "cairn", "models");
    }

    private static Dictionary<string, GgmlType> Q4KMediumTypes(int layers)
    {
        var types = new Dictionary<string, GgmlType>(StringComparer.Ordinal) { ["output.weight"] = GgmlType.Q6_K };
        for (int i = 0; i < layers; i++)
        {
            if (!UseMoreBits(i, layers)) continue;
            types[$"blk.{i}.attn_v.weight"] = GgmlType.Q6_K;
            types[$"blk.{i}.ffn_down.weight"] = GgmlType.Q6_K;
        }
        return types;
    }

    /// <summary>llama.cpp's choice of the layers that get more bits in its _M mixes.</summary>
    private static bool UseMoreBits(int layer, int layers) =>
        layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
}
