using Cairn.Protocol.Crypto;
using Cairn.Protocol.Encoding;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Validation;

namespace Cairn.Protocol.Messages;

/// <summary>
/// A client's signed request for one generation (DESIGN.md §4). Canonical encoding, version 1 (docs/protocol.md):
/// <code>
/// u8 13 ‖ "cairn.request" ‖ u8 1
/// model_hash        32 bytes
/// adapter_hashes    u32 count (≤ 16) ‖ 32 bytes each, in application order
/// prompt_tokens     u32 count (≤ 1,048,576) ‖ u32 each (≤ int.MaxValue)
/// temperature       f32 bits   top_k u32   top_p f32 bits   min_p f32 bits   repeat_penalty f32 bits   repeat_last_n u32
/// seed u64   max_tokens u32   price_limit u64 (micro-units)   client 20 bytes   nonce u64
/// ── end of the signed body; Hash() = Keccak-256 of the bytes above ──
/// signature         65 bytes (r ‖ s ‖ v), all zeros when unsigned
/// </code>
/// All integers little-endian. The signer must be <see cref="Client"/>.
/// </summary>
public sealed class InferenceRequest
{
    public const string DomainTag = "cairn.request";
    public const byte Version = 1;
    public const int MaxAdapters = 16;
    public const int MaxPromptTokens = 1 << 20;

    public required Hash256 ModelHash { get; init; }
    public IReadOnlyList<Hash256> AdapterHashes { get; init; } = [];
    public required IReadOnlyList<int> PromptTokens { get; init; }
    public SamplingParameters Sampling { get; init; } = new();
    public ulong Seed { get; init; }
    public required int MaxTokens { get; init; }
    /// <summary>The most the client pays for this request, in micro-units.</summary>
    public ulong PriceLimit { get; init; }
    public required Address Client { get; init; }
    /// <summary>Unique per client; a ledger refuses a (client, nonce) it has seen.</summary>
    public ulong Nonce { get; init; }
    public Signature Signature { get; init; }

    /// <summary>The canonical bytes that are hashed and signed (everything but the signature).</summary>
    public byte[] EncodeBody()
    {
        var w = new CanonicalWriter(128 + 32 * AdapterHashes.Count + 4 * PromptTokens.Count);
        WriteBody(w);
        return w.ToArray();
    }

    /// <summary>The wire form: the body followed by the 65-byte signature.</summary>
    public byte[] Encode()
    {
        var w = new CanonicalWriter(128 + 32 * AdapterHashes.Count + 4 * PromptTokens.Count + Signature.Size);
        WriteBody(w);
        w.WriteSignature(Signature);
        return w.ToArray();
    }

    /// <summary>Keccak-256 of <see cref="EncodeBody"/>: what the client signs and what receipts name.</summary>
    public Hash256 Hash() => Keccak256.Hash(EncodeBody());

    /// <summary>A copy signed by <paramref name="key"/>, which must be the client's key.</summary>
    public InferenceRequest Sign(Secp256k1Key key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Address != Client) throw new ArgumentException($"the request names client {Client} but the key is {key.Address}", nameof(key));
        return With(key.Sign(Hash()));
    }

    /// <summary>Checks that the signature was made by <see cref="Client"/> over this request.</summary>
    public ValidationResult Verify() => MessageSignatures.Verify("InferenceRequest", Hash(), Signature, Client, "client");

    /// <summary>Checks what the encoding cannot: parameter ranges and a non-empty prompt.</summary>
    public ValidationResult CheckParameters()
    {
        if (Sampling.Check() is { } error) return ValidationResult.Fail(ProtocolErrors.InvalidParameter, error);
        if (PromptTokens.Count == 0) return ValidationResult.Fail(ProtocolErrors.InvalidParameter, "prompt_tokens is empty");
        if (MaxTokens < 1) return ValidationResult.Fail(ProtocolErrors.InvalidParameter, $"max_tokens {MaxTokens} must be at least 1");
        return ValidationResult.Ok;
    }

    /// <summary>Decodes the wire form; throws <see cref="CanonicalFormatException"/> on anything not canonical.</summary>
    public static InferenceRequest Decode(ReadOnlySpan<byte> bytes)
    {
        var r = new CanonicalReader(bytes, "InferenceRequest");
        r.ReadDomain(DomainTag, Version);
        var model = r.ReadHash("model_hash");
        var adapters = new Hash256[r.ReadCount("adapter_hashes", MaxAdapters, Hash256.Size)];
        for (int i = 0; i < adapters.Length; i++) adapters[i] = r.ReadHash("adapter_hashes");
        var prompt = new int[r.ReadCount("prompt_tokens", MaxPromptTokens, 4)];
        for (int i = 0; i < prompt.Length; i++) prompt[i] = r.ReadInt("prompt_tokens");
        var sampling = new SamplingParameters
        {
            Temperature = r.ReadF32("temperature"),
            TopK = r.ReadInt("top_k"),
            TopP = r.ReadF32("top_p"),
            MinP = r.ReadF32("min_p"),
            RepeatPenalty = r.ReadF32("repeat_penalty"),
            RepeatLastN = r.ReadInt("repeat_last_n"),
        };
        var request = new InferenceRequest
        {
            ModelHash = model,
            AdapterHashes = adapters,
            PromptTokens = prompt,
            Sampling = sampling,
            Seed = r.ReadU64("seed"),
            MaxTokens = r.ReadInt("max_tokens"),
            PriceLimit = r.ReadU64("price_limit"),
            Client = r.ReadAddress("client"),
            Nonce = r.ReadU64("nonce"),
            Signature = r.ReadSignature("signature"),
        };
        r.End();
        return request;
    }

    /// <summary>Decodes without throwing: false and a <see cref="ProtocolErrors"/> code when the bytes are not canonical.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, out InferenceRequest? request, out ValidationResult result) =>
        MessageDecoding.TryDecode(bytes, Decode, out request, out result);

    private void WriteBody(CanonicalWriter w)
    {
        if (AdapterHashes.Count > MaxAdapters) throw new ArgumentException($"adapter_hashes has {AdapterHashes.Count} entries; at most {MaxAdapters} are allowed");
        if (PromptTokens.Count > MaxPromptTokens) throw new ArgumentException($"prompt_tokens has {PromptTokens.Count} entries; at most {MaxPromptTokens} are allowed");
        w.WriteDomain(DomainTag, Version);
        w.WriteHash(ModelHash);
        w.WriteU32((uint)AdapterHashes.Count);
        foreach (var a in AdapterHashes) w.WriteHash(a);
        w.WriteU32((uint)PromptTokens.Count);
        foreach (int t in PromptTokens) w.WriteCount(t, "prompt_tokens");
        w.WriteF32(Sampling.Temperature);
        w.WriteCount(Sampling.TopK, "top_k");
        w.WriteF32(Sampling.TopP);
        w.WriteF32(Sampling.MinP);
        w.WriteF32(Sampling.RepeatPenalty);
        w.WriteCount(Sampling.RepeatLastN, "repeat_last_n");
        w.WriteU64(Seed);
        w.WriteCount(MaxTokens, "max_tokens");
        w.WriteU64(PriceLimit);
        w.WriteAddress(Client);
        w.WriteU64(Nonce);
    }

    private InferenceRequest With(Signature signature) => new()
    {
        ModelHash = ModelHash,
        AdapterHashes = AdapterHashes,
        PromptTokens = PromptTokens,
        Sampling = Sampling,
        Seed = Seed,
        MaxTokens = MaxTokens,
        PriceLimit = PriceLimit,
        Client = Client,
        Nonce = Nonce,
        Signature = signature,
    };
}
