using Cairn.Protocol.Crypto;
using Cairn.Protocol.Encoding;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Validation;

namespace Cairn.Protocol.Messages;

/// <summary>
/// A provider's signed receipt for one answered request (DESIGN.md §4). Canonical encoding, version 1 (docs/protocol.md):
/// <code>
/// u8 13 ‖ "cairn.receipt" ‖ u8 1
/// request_hash 32   output_commitment 32   trace_root 32
/// prompt_tokens u32   completion_tokens u32   price u64 (micro-units)   provider 20 bytes
/// engine_build      u32 length (≤ 256) ‖ UTF-8
/// ── end of the signed body; Hash() = Keccak-256 of the bytes above ──
/// signature         65 bytes (r ‖ s ‖ v), all zeros when unsigned
/// </code>
/// All integers little-endian. The signer must be <see cref="Provider"/>.
/// </summary>
public sealed class Receipt
{
    public const string DomainTag = "cairn.receipt";
    public const byte Version = 1;
    public const int MaxEngineBuildBytes = 256;

    /// <summary><see cref="InferenceRequest.Hash"/> of the request answered.</summary>
    public required Hash256 RequestHash { get; init; }
    /// <summary>The engine's output commitment: SHA-256 over the generated token ids and the trace root.</summary>
    public required Hash256 OutputCommitment { get; init; }
    /// <summary>Root of the Merkle tree of the per-step roots of per-layer activation hashes.</summary>
    public required Hash256 TraceRoot { get; init; }
    public required int PromptTokens { get; init; }
    public required int CompletionTokens { get; init; }
    /// <summary>What the client is charged, in micro-units.</summary>
    public ulong Price { get; init; }
    public required Address Provider { get; init; }
    /// <summary>The engine build and kernel family that produced the answer; only matching providers validate each other.</summary>
    public required string EngineBuild { get; init; }
    public Signature Signature { get; init; }

    public byte[] EncodeBody()
    {
        var w = new CanonicalWriter(256);
        WriteBody(w);
        return w.ToArray();
    }

    public byte[] Encode()
    {
        var w = new CanonicalWriter(256 + Signature.Size);
        WriteBody(w);
        w.WriteSignature(Signature);
        return w.ToArray();
    }

    /// <summary>Keccak-256 of <see cref="EncodeBody"/>: what the provider signs and what the challenge draw takes.</summary>
    public Hash256 Hash() => Keccak256.Hash(EncodeBody());

    public Receipt Sign(Secp256k1Key key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Address != Provider) throw new ArgumentException($"the receipt names provider {Provider} but the key is {key.Address}", nameof(key));
        return With(key.Sign(Hash()));
    }

    /// <summary>Checks that the signature was made by <see cref="Provider"/> over this receipt.</summary>
    public ValidationResult Verify() => MessageSignatures.Verify("Receipt", Hash(), Signature, Provider, "provider");

    /// <summary>Checks the receipt answers <paramref name="request"/> and is signed by its provider.</summary>
    public ValidationResult Verify(InferenceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (RequestHash != request.Hash()) return ValidationResult.Fail(ProtocolErrors.RequestMismatch, $"Receipt names request {RequestHash}, not {request.Hash()}");
        if (PromptTokens != request.PromptTokens.Count) return ValidationResult.Fail(ProtocolErrors.RequestMismatch, $"Receipt counts {PromptTokens} prompt tokens; the request has {request.PromptTokens.Count}");
        if (CompletionTokens > request.MaxTokens) return ValidationResult.Fail(ProtocolErrors.RequestMismatch, $"Receipt counts {CompletionTokens} completion tokens; the request allows {request.MaxTokens}");
        if (Price > request.PriceLimit) return ValidationResult.Fail(ProtocolErrors.RequestMismatch, $"Receipt charges {Price}; the request's limit is {request.PriceLimit}");
        return Verify();
    }

    public static Receipt Decode(ReadOnlySpan<byte> bytes)
    {
        var r = new CanonicalReader(bytes, "Receipt");
        r.ReadDomain(DomainTag, Version);
        var receipt = new Receipt
        {
            RequestHash = r.ReadHash("request_hash"),
            OutputCommitment = r.ReadHash("output_commitment"),
            TraceRoot = r.ReadHash("trace_root"),
            PromptTokens = r.ReadInt("prompt_tokens"),
            CompletionTokens = r.ReadInt("completion_tokens"),
            Price = r.ReadU64("price"),
            Provider = r.ReadAddress("provider"),
            EngineBuild = r.ReadString("engine_build", MaxEngineBuildBytes),
            Signature = r.ReadSignature("signature"),
        };
        r.End();
        return receipt;
    }

    public static bool TryDecode(ReadOnlySpan<byte> bytes, out Receipt? receipt, out ValidationResult result) =>
        MessageDecoding.TryDecode(bytes, Decode, out receipt, out result);

    private void WriteBody(CanonicalWriter w)
    {
        w.WriteDomain(DomainTag, Version);
        w.WriteHash(RequestHash);
        w.WriteHash(OutputCommitment);
        w.WriteHash(TraceRoot);
        w.WriteCount(PromptTokens, "prompt_tokens");
        w.WriteCount(CompletionTokens, "completion_tokens");
        w.WriteU64(Price);
        w.WriteAddress(Provider);
        w.WriteString(EngineBuild, MaxEngineBuildBytes, "engine_build");
    }

    private Receipt With(Signature signature) => new()
    {
        RequestHash = RequestHash,
        OutputCommitment = OutputCommitment,
        TraceRoot = TraceRoot,
        PromptTokens = PromptTokens,
        CompletionTokens = CompletionTokens,
        Price = Price,
        Provider = Provider,
        EngineBuild = EngineBuild,
        Signature = signature,
    };
}
