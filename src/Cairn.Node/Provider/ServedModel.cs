using System.Diagnostics;
using System.Security.Cryptography;
using Cairn.Engine.Chat;
using Cairn.Engine.Generation;
using Cairn.Engine.Inference;
using Cairn.Engine.Models;
using Cairn.Engine.Sampling;
using Cairn.Engine.Tokenization;
using Cairn.Node.Rpc;

namespace Cairn.Node.Provider;

/// <summary>A model a provider serves: the loaded engine, its content hash, its chat template and its request queue.</summary>
public sealed partial class ServedModel : IDisposable
{
    private readonly IReadOnlyList<Model> _cheats; // FAULT INJECTION (tests only): models computed with instead of Model

    private ServedModel(string path, Model model, byte[] hash, ChatTemplate? template, string? templateError, int threads, int maxSequences,
        IReadOnlyList<Model> cheats, ProviderFaults faults)
    {
        Path = path;
        Model = model;
        Hash = hash;
        Template = template;
        TemplateError = templateError;
        _cheats = cheats;
        Transformer = CheatingTransformer(_cheats.Count > 0 ? _cheats[^1] : model, threads, faults);
        Batcher = new ContinuousBatcher(Transformer, maxSequences);
        Name = System.IO.Path.GetFileNameWithoutExtension(path);
    }

    public string Name { get; }
    public string Path { get; }
    /// <summary>The model file served (its name, hash, tokenizer and limits are what the provider announces and signs).</summary>
    public Model Model { get; }
    public byte[] Hash { get; }
    public Tokenizer Tokenizer => Model.Tokenizer!;
    /// <summary>The chat template, or null with <see cref="TemplateError"/> saying why chats are refused.</summary>
    public ChatTemplate? Template { get; }
    public string? TemplateError { get; }
    /// <summary>What generations (and replays of them) run on: <see cref="Model"/>'s, unless a FAULT INJECTION cheat replaced it.</summary>
    public Transformer Transformer { get; }
    public ContinuousBatcher Batcher { get; }

    /// <summary>
    /// Loads the model and hashes the file. A model without a chat template is served with ChatML (llama.cpp's
    /// default); a template that is present but not recognized refuses chats with a clear error unless
    /// <paramref name="templateOverride"/> names one.
    /// </summary>
    /// <param name="faults">FAULT INJECTION for tests (a cheater's model substitution, requantization, skipped layers or
    /// forged layer hashes); null in real use.</param>
    /// <param name="layers">Serve only these layers as a pipeline stage (<see cref="Model.LoadStage"/>); null: the whole model.</param>
    public static ServedModel Load(string path, string? tokenizerPath, string? templateOverride, int threads, int maxSequences = 16, ProviderFaults? faults = null,
        (int Start, int End)? layers = null)
    {
        var model = layers is { } range ? Model.LoadStage(path, range.Start, range.End) : Model.Load(path, tokenizerPath);
        IReadOnlyList<Model> cheats = [];
        try
        {
            if (model.Tokenizer is null) throw new InvalidOperationException($"{path}: the file has no tokenizer (tokenizer.ggml.* metadata)");
            byte[] hash;
            using (var stream = File.OpenRead(path)) hash = SHA256.HashData(stream);
            ChatTemplate? template = null;
            string? error = null;
            string? eos = model.Tokenizer.EosId >= 0 ? model.Tokenizer.TokenText(model.Tokenizer.EosId) : null;
            try
            {
                template = templateOverride is null && model.ChatTemplateSource is null
                    ? ChatTemplate.FromName("chatml", eos)
                    : ChatTemplate.Resolve(model.ChatTemplateSource, templateOverride, eos);
            }
            catch (ArgumentException e)
            {
                error = e.Message;
            }
            faults ??= ProviderFaults.None;
            cheats = CheatingModels(model, faults, tokenizerPath);
            return new ServedModel(path, model, hash, template, error, threads, maxSequences, cheats, faults);
        }
        catch
        {
            foreach (var m in Enumerable.Reverse(cheats)) m.Dispose();
            model.Dispose();
            throw;
        }
    }

    public ModelInfo Info() => new()
    {
        Name = Name,
        Hash = Google.Protobuf.ByteString.CopyFrom(Hash),
        ContextLength = Model.Config.ContextLength,
        VocabSize = Model.Config.VocabSize,
        Architecture = Model.Config.Architecture,
        WeightType = Model.Layers[0].Wq.Type.ToString(),
        LayerStart = IsStage ? Model.FirstLayer : 0,
        LayerEnd = IsStage ? Model.EndLayer : 0,
        LayerCount = Model.Config.Layers,
        Dim = Model.Config.Dim,
        Flexible = Flexible,
        Adapters = { _adapters.Values.Select(a => new AdapterInfo { Name = a.Name, Hash = Google.Protobuf.ByteString.CopyFrom(a.Hash) }) },
    };

    /// <summary>The diagnostic benchmark announced at registration: a short greedy run, prefill and decode tok/s.</summary>
    public (double PrefillTokS, double DecodeTokS) Benchmark()
    {
        if (IsStage) return StageBenchmark();
        int n = Math.Min(16, Model.Config.ContextLength / 2);
        var prompt = new int[n];
        for (int i = 0; i < n; i++) prompt[i] = (i * 7 + 1) % Model.Config.VocabSize;
        var clock = Stopwatch.StartNew();
        var r = new Generator(Transformer).Generate(prompt, new GenerationOptions
        {
            MaxTokens = Math.Min(16, Model.Config.ContextLength - n),
            Sampling = SamplingOptions.Greedy,
            StopAtEndOfGeneration = false,
        });
        return (n / Math.Max(r.PrefillTime.TotalSeconds, 1e-6), r.Tokens.Length / Math.Max(r.DecodeTime.TotalSeconds, 1e-6));
    }

    public void Dispose()
    {
        Batcher.Dispose();
        foreach (var m in Enumerable.Reverse(_cheats)) m.Dispose();
        Model.Dispose();
    }
}
