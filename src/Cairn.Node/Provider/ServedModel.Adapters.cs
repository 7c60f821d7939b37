using Cairn.Engine.Adapters;
using Cairn.Protocol.Crypto;

namespace Cairn.Node.Provider;

public sealed partial class ServedModel
{
    private readonly Dictionary<Hash256, LoraAdapter> _adapters = [];

    /// <summary>The LoRA adapters this model serves, by the SHA-256 of their file.</summary>
    public IReadOnlyDictionary<Hash256, LoraAdapter> Adapters => _adapters;

    /// <summary>
    /// Loads each adapter file once (keyed by its SHA-256) and attaches it to every model it fits; an adapter that fits
    /// none of them, or a pipeline stage given adapters, is an <see cref="ArgumentException"/> naming the reasons.
    /// </summary>
    public static void AttachAdapters(IReadOnlyList<ServedModel> models, IReadOnlyList<string> paths)
    {
        foreach (string path in paths.Distinct(StringComparer.Ordinal))
        {
            var adapter = LoraAdapter.Load(path);
            var misfits = new List<string>();
            bool attached = false;
            foreach (var m in models)
            {
                if (m.IsStage) throw new ArgumentException($"--adapter {path}: a pipeline stage (--layers) does not serve adapters");
                if (adapter.Misfit(m.Model.Config) is { } problem) misfits.Add($"{m.Name}: {problem}");
                else
                {
                    m._adapters.TryAdd(new Hash256(adapter.Hash), adapter);
                    attached = true;
                }
            }
            if (!attached) throw new ArgumentException($"--adapter {path} fits none of the served models ({string.Join("; ", misfits)})");
        }
    }

    /// <summary>
    /// The adapters a request names, in its order; null with <paramref name="unknown"/> set when this provider does not
    /// have one of them (it never fetches adapters from anywhere: the request is refused).
    /// </summary>
    public LoraAdapter[]? ResolveAdapters(IReadOnlyList<Hash256> hashes, out Hash256 unknown)
    {
        unknown = default;
        var result = new LoraAdapter[hashes.Count];
        for (int i = 0; i < hashes.Count; i++)
        {
            if (!_adapters.TryGetValue(hashes[i], out var adapter))
            {
                unknown = hashes[i];
                return null;
            }
            result[i] = adapter;
        }
        return result;
    }
}
