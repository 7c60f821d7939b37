using System.Globalization;
using Cairn.Engine.Gguf;
using Cairn.Engine.Models;
using Cairn.Engine.Tensors;

namespace Cairn.Cli.Devnet;

/// <summary>
/// The <c>cairn devnet --strategy</c> names: how the cheating providers misbehave, each turned into the test-only
/// <c>cairn node --fault</c> value (Cairn.Node's ProviderFaults) for the devnet's model.
/// </summary>
internal sealed record CheatingStrategy(string Name, string Description)
{
    public static readonly IReadOnlyList<CheatingStrategy> All =
    [
        new("wrong-seed", "samples with another seed: other tokens"),
        new("forge-commitment", "honest tokens, a forged output commitment in the receipt"),
        new("smaller-model", "computes with a copy of the model that has half its layers, claiming the real one"),
        new("cheaper-type", "requantizes the weights to Q4_0 in memory, claiming the original file"),
        new("skipped-layers", "does not compute the middle layer (its output is its input)"),
        new("random-tokens", "emits random tokens instead of sampling (traced honestly)"),
        new("truncate", "stops after 4 tokens, reporting a normal stop"),
        new("forged-layer-hashes", "honest tokens, the middle layer's hashes forged in the trace"),
        new("lazy-validator", "as a validator returns a guessed commitment without computing; honest as an asserter"),
        new("colluding-pair", "the cheaters (2 or more) use another seed and cover for one another as validators"),
    ];

    public static CheatingStrategy? Find(string name) => All.FirstOrDefault(s => s.Name == name);

    public static string Names => string.Join(", ", All.Select(s => s.Name));

    /// <summary>The <c>--strategy</c> help: one line per strategy.</summary>
    public static string Help => "How the cheaters cheat (test-only faults):" + string.Concat(All.Select(s => $"\n  {s.Name,-20} {s.Description}"));

    /// <summary>The <c>--fault</c> value for <paramref name="model"/>; files it needs are written under <paramref name="data"/>.</summary>
    public string Fault(string model, string? tokenizer, string data, int cheaters)
    {
        switch (Name)
        {
            case "smaller-model":
                return "substitute-model:" + SmallerModel(model, data);
            case "cheaper-type":
                if (WeightType(model, tokenizer) == GgmlType.Q4_0)
                    throw new ArgumentException($"--strategy cheaper-type: {Path.GetFileName(model)} is already Q4_0, the cheapest type a cheater can requantize to");
                return "cheaper-type:Q4_0";
            case "skipped-layers":
                return "skip-layers:" + (Layers(model, tokenizer) / 2).ToString(CultureInfo.InvariantCulture);
            case "truncate":
                return "truncate:4";
            case "forged-layer-hashes":
                return "forge-layer-hashes";
            case "colluding-pair":
                if (cheaters < 2) throw new ArgumentException("--strategy colluding-pair needs --cheaters 2 or more");
                return "wrong-seed,collude:" + Path.Combine(data, "cartel");
            default:
                return Name; // the fault has the strategy's name
        }
    }

    private static GgmlType WeightType(string model, string? tokenizer)
    {
        using var m = Model.Load(model, tokenizer);
        return m.Layers[0].Wq.Type;
    }

    private static int Layers(string model, string? tokenizer)
    {
        using var m = Model.Load(model, tokenizer);
        return m.Config.Layers;
    }

    /// <summary>A copy of the model with its first half of layers (at least one): same vocabulary, a fraction of the work.</summary>
    private static string SmallerModel(string model, string data)
    {
        if (!model.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)) throw new ArgumentException("--strategy smaller-model needs a .gguf model");
        string path = Path.Combine(data, "smaller-" + Path.GetFileNameWithoutExtension(model) + ".gguf");
        using var file = GgufFile.Open(model);
        string arch = file.GetString("general.architecture");
        int layers = (int)file.GetInteger(arch + ".block_count");
        if (layers < 2) throw new ArgumentException($"--strategy smaller-model: {Path.GetFileName(model)} has {layers} layer; a smaller copy needs 2 or more");
        int keep = layers / 2;
        GgufWriter.CopyOf(file, t => !t.Name.StartsWith("blk.", StringComparison.Ordinal) || int.Parse(t.Name.Split('.')[1], CultureInfo.InvariantCulture) < keep)
            .Set(arch + ".block_count", (uint)keep)
            .Write(path);
        return path;
    }
}
