using Cairn.Engine.Models;
using Cairn.Engine.Tensors;

namespace Cairn.Cli.Bench;

/// <summary>The weight types of a model's matrices, the one holding most bytes first (e.g. <c>Q4_K+Q6_K</c>).</summary>
internal static class WeightTypes
{
    public static string Describe(Model model)
    {
        var bytes = new Dictionary<GgmlType, long>();
        void Add(Weight w) => bytes[w.Type] = bytes.GetValueOrDefault(w.Type) + w.ByteSize;
        Add(model.TokenEmbedding);
        if (!ReferenceEquals(model.Output, model.TokenEmbedding)) Add(model.Output);
        foreach (var l in model.Layers)
        {
            foreach (var w in new[] { l.Wq, l.Wk, l.Wv, l.Wo, l.Gate, l.Up, l.Down }) Add(w);
        }
        return string.Join('+', bytes.OrderByDescending(kv => kv.Value).Select(kv => kv.Key.ToString()));
    }
}
