using Cairn.Engine.Generation;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Messages;

namespace Cairn.Node.Provider;

/// <summary>A provider's identity, models and live load, shared by its gRPC service and its registration loop.</summary>
public sealed class ProviderState(Secp256k1Key key, IReadOnlyList<ServedModel> models, ulong pricePerToken, ProviderFaults? faults = null) : IDisposable
{
    /// <summary>The engine build named in receipts: validators compare only receipts of matching builds (DESIGN.md §10).</summary>
    public const string EngineBuild = "cairn-engine/0.1 cpu-f32kv";

    private int _active;

    public Address Id => key.Address;
    private IReadOnlyList<ServedModel> _models = models;

    public IReadOnlyList<ServedModel> Models => Volatile.Read(ref _models);
    public ulong PricePerToken { get; } = pricePerToken;
    /// <summary>The gateway whose signed requests this provider serves (learned at registration); null until then.</summary>
    public Address? Gateway { get; set; }
    public int Active => Volatile.Read(ref _active);
    /// <summary>FAULT INJECTION for tests; <see cref="ProviderFaults.None"/> in real use.</summary>
    public ProviderFaults Faults { get; } = faults ?? ProviderFaults.None;

    public ServedModel? Find(ReadOnlySpan<byte> hash)
    {
        foreach (var m in Models)
        {
            if (hash.SequenceEqual(m.Hash)) return m;
        }
        return null;
    }

    /// <summary>The signed statement of what this provider serves where, sent at registration.</summary>
    public byte[] Announce(string endpoint, DateTimeOffset now) => new ProviderAnnouncement
    {
        Provider = key.Address,
        Endpoint = endpoint,
        Models = Models.Select(m => new Hash256(m.Hash)).ToArray(),
        PricePerToken = PricePerToken,
        TimestampMs = (ulong)now.ToUnixTimeMilliseconds(),
    }.Sign(key).Encode();

    /// <summary>A flexible stage loaded another range: <paramref name="next"/> replaces <paramref name="old"/> (which the caller disposes).</summary>
    public void Replace(ServedModel old, ServedModel next) =>
        Volatile.Write(ref _models, [.. Models.Select(m => ReferenceEquals(m, old) ? next : m)]);

    public void Begin() => Interlocked.Increment(ref _active);
    public void End() => Interlocked.Decrement(ref _active);

    /// <param name="cheat">FAULT INJECTION (tests only): whether this request gets the token-level cheats (forge-commitment).</param>
    public Receipt SignReceipt(InferenceRequest request, GenerationResult result, bool cheat = false) =>
        Sign(request, new Hash256(result.OutputCommitment!), new Hash256(result.TraceRoot!), result.PromptTokens.Length, result.Tokens.Length, cheat);

    /// <summary>
    /// FAULT INJECTION (tests only), lazy-validator: a receipt for a re-execution that was never computed — a guessed
    /// commitment and trace root, the most completion tokens the request allows.
    /// </summary>
    public Receipt SignGuessedReceipt(InferenceRequest request, int contextLength)
    {
        var guess = ProviderFaults.GuessedCommitment(request.Hash());
        return Sign(request, guess, guess, request.PromptTokens.Count, Math.Min(request.MaxTokens, contextLength - request.PromptTokens.Count), cheat: false);
    }

    private Receipt Sign(InferenceRequest request, Hash256 outputCommitment, Hash256 traceRoot, int promptTokens, int completionTokens, bool cheat)
    {
        var receipt = new Receipt
        {
            RequestHash = request.Hash(),
            // FAULT INJECTION (tests only): forge-commitment keeps the tokens but commits to a hash of the request.
            OutputCommitment = cheat && Faults.ForgeCommitment ? ProviderFaults.ForgedCommitment(request.Hash()) : outputCommitment,
            TraceRoot = traceRoot,
            PromptTokens = promptTokens,
            CompletionTokens = completionTokens,
            Price = (ulong)(promptTokens + completionTokens) * PricePerToken,
            Provider = key.Address,
            EngineBuild = EngineBuild,
        };
        if (!Faults.BadSignature) return receipt.Sign(key);
        // FAULT INJECTION (tests only): the same receipt, signed by a key that is not the provider's.
        using var wrong = Secp256k1Key.Generate(System.Security.Cryptography.RandomNumberGenerator.Create());
        return WithSignature(receipt, wrong.Sign(receipt.Hash()));
    }

    /// <summary>Signs a pipeline stage's part of a trace (<see cref="StagePart.Provider"/> must be this provider).</summary>
    public StagePart SignStagePart(StagePart part)
    {
        // FAULT INJECTION (tests only): forge-stage-part signs a root that is not the root of the hashes it reported.
        if (Faults.ForgeStagePart) part = new StagePart
        {
            RequestHash = part.RequestHash,
            ModelHash = part.ModelHash,
            FirstLayer = part.FirstLayer,
            EndLayer = part.EndLayer,
            LayerCount = part.LayerCount,
            Steps = part.Steps,
            PartRoot = Keccak256.Hash(part.PartRoot.ToArray()),
            Tokens = part.Tokens,
            Provider = part.Provider,
        };
        if (!Faults.BadSignature) return part.Sign(key);
        // FAULT INJECTION (tests only): the same part, signed by a key that is not the provider's.
        using var wrong = Secp256k1Key.Generate(System.Security.Cryptography.RandomNumberGenerator.Create());
        return StagePart.Decode([.. part.EncodeBody(), .. wrong.Sign(part.Hash()).ToArray()]);
    }

    private static Receipt WithSignature(Receipt r, Signature signature) => new()
    {
        RequestHash = r.RequestHash,
        OutputCommitment = r.OutputCommitment,
        TraceRoot = r.TraceRoot,
        PromptTokens = r.PromptTokens,
        CompletionTokens = r.CompletionTokens,
        Price = r.Price,
        Provider = r.Provider,
        EngineBuild = r.EngineBuild,
        Signature = signature,
    };

    public void Dispose()
    {
        foreach (var m in Models) m.Dispose();
        key.Dispose();
    }
}
