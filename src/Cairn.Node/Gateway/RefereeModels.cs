using System.Security.Cryptography;
using Cairn.Engine.Adapters;
using Cairn.Engine.Inference;
using Cairn.Engine.Models;
using Cairn.Protocol.Crypto;

namespace Cairn.Node.Gateway;

/// <summary>
/// The models a gateway loads for refereeing disputes only (<c>cairn gateway --model FILE</c>), keyed by the SHA-256 of
/// the file, which is what requests name; and the LoRA adapters it referees requests with (<c>--adapter FILE</c>), keyed
/// the same way. The gateway never serves with them.
/// </summary>
public sealed class RefereeModels : IDisposable
{
    private readonly Dictionary<Hash256, (string Path, Transformer Transformer)> _models = [];
    private readonly Dictionary<Hash256, LoraAdapter> _adapters = [];

    public RefereeModels(IEnumerable<string> paths, int threads, IEnumerable<string>? adapters = null)
    {
        try
        {
            foreach (string path in paths)
            {
                byte[] hash;
                using (var stream = File.OpenRead(path)) hash = SHA256.HashData(stream);
                var key = new Hash256(hash);
                if (_models.ContainsKey(key)) continue;
                _models[key] = (path, new Transformer(Model.Load(path), Math.Max(1, threads)));
            }
            foreach (string path in adapters ?? [])
            {
                var adapter = LoraAdapter.Load(path);
                var misfits = _models.Values.Select(m => adapter.Misfit(m.Transformer.Config)).ToList();
                if (misfits.All(m => m != null))
                {
                    throw new ArgumentException(_models.Count == 0
                        ? $"--adapter {path}: the gateway referees adapters only on a model it loads (--model)"
                        : $"--adapter {path} fits none of the referee models ({string.Join("; ", misfits)})");
                }
                _adapters.TryAdd(new Hash256(adapter.Hash), adapter);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int Count => _models.Count;

    /// <summary>The referee's transformer for the model with this file hash, or null when the gateway has none.</summary>
    public Transformer? Find(Hash256 modelHash) => _models.TryGetValue(modelHash, out var m) ? m.Transformer : null;

    /// <summary>
    /// The referee's transformer and the request's adapters in request order, or null when the gateway lacks the model
    /// or any of the adapters (then a disagreement goes to the tie-breaker, never to a referee without them).
    /// </summary>
    public (Transformer Transformer, LoraAdapter[] Adapters)? Find(Hash256 modelHash, IReadOnlyList<Hash256> adapterHashes)
    {
        if (Find(modelHash) is not { } transformer) return null;
        var adapters = new LoraAdapter[adapterHashes.Count];
        for (int i = 0; i < adapters.Length; i++)
        {
            if (!_adapters.TryGetValue(adapterHashes[i], out var adapter) || adapter.Misfit(transformer.Config) != null) return null;
            adapters[i] = adapter;
        }
        return (transformer, adapters);
    }

    public IEnumerable<string> Paths => _models.Values.Select(m => m.Path);

    public IEnumerable<string> AdapterPaths => _adapters.Values.Select(a => a.Path);

    public void Dispose()
    {
        foreach (var (_, t) in _models.Values) t.Model.Dispose();
        _models.Clear();
        _adapters.Clear();
    }
}
