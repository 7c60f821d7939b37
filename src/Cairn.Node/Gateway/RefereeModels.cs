using System.Security.Cryptography;
using Cairn.Engine.Inference;
using Cairn.Engine.Models;
using Cairn.Protocol.Crypto;

namespace Cairn.Node.Gateway;

/// <summary>
/// The models a gateway loads for refereeing disputes only (<c>cairn gateway --model FILE</c>), keyed by the SHA-256 of
/// the file, which is what requests name. The gateway never serves with them.
/// </summary>
public sealed class RefereeModels : IDisposable
{
    private readonly Dictionary<Hash256, (string Path, Transformer Transformer)> _models = [];

    public RefereeModels(IEnumerable<string> paths, int threads)
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

    public IEnumerable<string> Paths => _models.Values.Select(m => m.Path);

    public void Dispose()
    {
        foreach (var (_, t) in _models.Values) t.Model.Dispose();
        _models.Clear();
    }
}
