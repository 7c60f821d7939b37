using Cairn.Engine.Inference;
using Cairn.Engine.Models;

namespace Cairn.Node.Provider;

/// <summary>FAULT INJECTION (tests only): the model-level cheats of <see cref="ProviderFaults"/>, applied at load.</summary>
public sealed partial class ServedModel
{
    /// <summary>
    /// The models a cheater computes with instead of <paramref name="served"/>, in load order (the last one is used; all
    /// are disposed with the served model): the substitute file (substitute-model), then its requantized copy
    /// (cheaper-type). Empty for an honest provider.
    /// </summary>
    private static IReadOnlyList<Model> CheatingModels(Model served, ProviderFaults faults, string? tokenizerPath)
    {
        var models = new List<Model>();
        try
        {
            var compute = served;
            if (faults.SubstituteModel is { } file)
            {
                if (!File.Exists(file)) throw new FileNotFoundException($"--fault substitute-model:{file}: no such model file", file);
                compute = Model.Load(file, tokenizerPath);
                models.Add(compute);
                CheckSubstitute(served, compute, file);
            }
            if (faults.CheaperType is { } type)
            {
                if (compute.Layers[0].Wq.Type == type)
                    throw new ArgumentException($"--fault cheaper-type:{type}: the model's weights are already {type}; pick a cheaper type");
                compute = ModelRequantizer.Requantize(compute, type);
                models.Add(compute);
            }
            return models;
        }
        catch
        {
            foreach (var m in Enumerable.Reverse(models)) m.Dispose();
            throw;
        }
    }

    /// <summary>A substitute must accept every request the served model accepts and produce tokens of the same vocabulary.</summary>
    private static void CheckSubstitute(Model served, Model substitute, string file)
    {
        var (a, b) = (served.Tokenizer!, substitute.Tokenizer);
        if (b is null) throw new ArgumentException($"--fault substitute-model:{file}: the file has no tokenizer");
        if (substitute.Config.VocabSize != served.Config.VocabSize || b.VocabSize != a.VocabSize)
            throw new ArgumentException($"--fault substitute-model:{file}: its vocabulary has {substitute.Config.VocabSize} tokens, the served model's {served.Config.VocabSize}");
        for (int id = 0; id < a.VocabSize; id++)
        {
            if (a.TokenText(id) != b.TokenText(id))
                throw new ArgumentException($"--fault substitute-model:{file}: token {id} is '{b.TokenText(id)}', the served model's is '{a.TokenText(id)}'");
        }
        if (substitute.Config.ContextLength < served.Config.ContextLength)
            throw new ArgumentException($"--fault substitute-model:{file}: its context of {substitute.Config.ContextLength} is shorter than the served model's {served.Config.ContextLength}");
    }

    /// <summary>The transformer generations and replays run on, with the engine's fault hooks set (skip-layers, forge-layer-hashes).</summary>
    private static Transformer CheatingTransformer(Model compute, int threads, ProviderFaults faults)
    {
        var transformer = new Transformer(compute, threads);
        int layers = compute.Config.Layers;
        if (faults.SkipLayers.FirstOrDefault(l => l >= layers, -1) is var bad and >= 0)
            throw new ArgumentException($"--fault skip-layers: layer {bad} is outside 0 to {layers - 1}");
        transformer.SkippedLayers = faults.SkipLayers;
        if (faults.ForgeLayerHashes)
        {
            int layer = faults.ForgedLayer ?? layers / 2;
            if (layer >= layers) throw new ArgumentException($"--fault forge-layer-hashes:{layer}: layer {layer} is outside 0 to {layers - 1}");
            transformer.TraceTamper = ProviderFaults.LayerHashForgery(layer);
        }
        return transformer;
    }
}
