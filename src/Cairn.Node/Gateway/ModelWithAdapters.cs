using Cairn.Node.Rpc;
using Cairn.Protocol.Crypto;

namespace Cairn.Node.Gateway;

/// <summary>
/// An OpenAI <c>model</c> field naming a base model and LoRA adapters: <c>base+adapter[+adapter2…]</c>, each part a
/// name or a hash (an adapter also by a hex prefix of at least 8 digits). Adapters apply in the order written.
/// </summary>
public static class ModelWithAdapters
{
    public const int MinHashPrefix = 8;

    /// <summary>The base part and the adapter parts of <paramref name="model"/>.</summary>
    public static (string Base, string[] Adapters) Split(string model)
    {
        string[] parts = model.Split('+');
        return (parts[0], parts[1..]);
    }

    /// <summary>
    /// The announced whole model <paramref name="model"/> names and its adapters' hashes in request order, or null when
    /// this announcement lacks the base model or any adapter.
    /// </summary>
    public static (ModelInfo Model, Hash256[] Adapters)? Resolve(IEnumerable<ModelInfo> announced, string model)
    {
        var (baseName, adapters) = Split(model);
        foreach (var m in announced)
        {
            if (m.LayerEnd != 0 || (m.Name != baseName && Convert.ToHexStringLower(m.Hash.Span) != baseName)) continue;
            var hashes = new Hash256[adapters.Length];
            bool all = true;
            for (int i = 0; i < adapters.Length && all; i++)
            {
                var found = m.Adapters.FirstOrDefault(a => Names(a, adapters[i]));
                if (found is null) all = false;
                else hashes[i] = new Hash256(found.Hash.Span);
            }
            if (all) return (m, hashes);
        }
        return null;
    }

    private static bool Names(AdapterInfo a, string part) =>
        a.Name == part || (part.Length >= MinHashPrefix && Convert.ToHexStringLower(a.Hash.Span).StartsWith(part, StringComparison.Ordinal));
}
