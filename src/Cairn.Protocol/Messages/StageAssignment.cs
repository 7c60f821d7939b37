using Cairn.Protocol.Crypto;
using Cairn.Protocol.Encoding;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Sampling;
using Cairn.Protocol.Validation;

namespace Cairn.Protocol.Messages;

/// <summary>
/// A gateway's signed order to one flexible pipeline stage (docs/pipeline.md "Planned pipelines", docs/protocol.md):
/// serve layers [<see cref="FirstLayer"/>, <see cref="EndLayer"/>) of the model from now on. It travels in
/// <c>StageLoadRequest.assignment</c>; the stage obeys only its own gateway, only orders addressed to itself, and only
/// orders newer than the last it obeyed (<see cref="Accept"/>). Canonical encoding, version 1:
/// <code>
/// u8 22 ‖ "cairn.stage-assignment" ‖ u8 1
/// model_hash 32
/// first_layer u32   end_layer u32 (exclusive; both ≤ 4096)
/// stage 20 bytes    (the stage provider's address the order is meant for)
/// issued_ms u64     (the gateway's clock, Unix ms; strictly increasing across the gateway's assignments)
/// gateway 20 bytes
/// ── end of the signed body; Hash() = Keccak-256 of the bytes above ──
/// signature         65 bytes (r ‖ s ‖ v), all zeros when unsigned
/// </code>
/// All integers little-endian. The signer must be <see cref="Gateway"/>.
/// </summary>
public sealed class StageAssignment
{
    public const string DomainTag = "cairn.stage-assignment";
    public const byte Version = 1;
    public const int MaxLayers = DisputeEvidence.MaxLayers;

    public required Hash256 ModelHash { get; init; }
    public required int FirstLayer { get; init; }
    public required int EndLayer { get; init; }
    /// <summary>The stage provider the order is addressed to; any other stage refuses it.</summary>
    public required Address Stage { get; init; }
    /// <summary>When the gateway issued it (Unix ms); a stage refuses one not newer than the last it obeyed.</summary>
    public required ulong IssuedMs { get; init; }
    public required Address Gateway { get; init; }
    public Signature Signature { get; init; }

    public byte[] EncodeBody()
    {
        var w = new CanonicalWriter(128);
        WriteBody(w);
        return w.ToArray();
    }

    public byte[] Encode()
    {
        var w = new CanonicalWriter(128 + Signature.Size);
        WriteBody(w);
        w.WriteSignature(Signature);
        return w.ToArray();
    }

    public Hash256 Hash() => Keccak256.Hash(EncodeBody());

    public StageAssignment Sign(Secp256k1Key key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Address != Gateway) throw new ArgumentException($"the stage assignment names gateway {Gateway} but the key is {key.Address}", nameof(key));
        return new StageAssignment
        {
            ModelHash = ModelHash,
            FirstLayer = FirstLayer,
            EndLayer = EndLayer,
            Stage = Stage,
            IssuedMs = IssuedMs,
            Gateway = Gateway,
            Signature = key.Sign(Hash()),
        };
    }

    /// <summary>Checks the layer range is well formed and the signature was made by <see cref="Gateway"/>.</summary>
    public ValidationResult Verify()
    {
        if (FirstLayer < 0 || FirstLayer >= EndLayer || EndLayer > MaxLayers)
            return ValidationResult.Fail(ProtocolErrors.InvalidParameter, $"StageAssignment layers [{FirstLayer}, {EndLayer}) are not a range A:B with 0 <= A < B <= {MaxLayers}");
        return MessageSignatures.Verify("StageAssignment", Hash(), Signature, Gateway, "gateway");
    }

    /// <summary>
    /// Whether the stage <paramref name="stage"/>, whose gateway is <paramref name="gateway"/>, may obey this order now:
    /// <see cref="Verify"/>, then signed by that gateway (<c>wrong_signer</c>), addressed to that stage
    /// (<c>wrong_recipient</c>), newer than the last order it obeyed, <paramref name="lastIssuedMs"/> (<c>replayed</c>),
    /// and issued within <paramref name="maxSkewMs"/> of <paramref name="nowMs"/>, the stage's clock (<c>stale</c>).
    /// </summary>
    public ValidationResult Accept(Address gateway, Address stage, ulong lastIssuedMs, ulong nowMs, ulong maxSkewMs)
    {
        if (Verify() is { IsValid: false } bad) return bad;
        if (Gateway != gateway) return ValidationResult.Fail(ProtocolErrors.WrongSigner, $"StageAssignment was signed by gateway {Gateway}, not by this stage's gateway {gateway}");
        if (Stage != stage) return ValidationResult.Fail(ProtocolErrors.WrongRecipient, $"StageAssignment is addressed to stage {Stage}, not to {stage}");
        if (IssuedMs <= lastIssuedMs) return ValidationResult.Fail(ProtocolErrors.Replayed, $"StageAssignment issued at {IssuedMs} ms is not newer than the last one obeyed ({lastIssuedMs} ms)");
        ulong skew = IssuedMs > nowMs ? IssuedMs - nowMs : nowMs - IssuedMs;
        if (skew > maxSkewMs) return ValidationResult.Fail(ProtocolErrors.Stale, $"StageAssignment issued at {IssuedMs} ms is {skew} ms off this stage's clock ({nowMs} ms; at most {maxSkewMs} ms)");
        return ValidationResult.Ok;
    }

    public static StageAssignment Decode(ReadOnlySpan<byte> bytes)
    {
        var r = new CanonicalReader(bytes, "StageAssignment");
        r.ReadDomain(DomainTag, Version);
        var assignment = new StageAssignment
        {
            ModelHash = r.ReadHash("model_hash"),
            FirstLayer = r.ReadInt("first_layer", MaxLayers),
            EndLayer = r.ReadInt("end_layer", MaxLayers),
            Stage = r.ReadAddress("stage"),
            IssuedMs = r.ReadU64("issued_ms"),
            Gateway = r.ReadAddress("gateway"),
            Signature = r.ReadSignature("signature"),
        };
        r.End();
        return assignment;
    }

    public static bool TryDecode(ReadOnlySpan<byte> bytes, out StageAssignment? assignment, out ValidationResult result) =>
        MessageDecoding.TryDecode(bytes, Decode, out assignment, out result);

    private void WriteBody(CanonicalWriter w)
    {
        w.WriteDomain(DomainTag, Version);
        w.WriteHash(ModelHash);
        w.WriteCount(FirstLayer, "first_layer");
        w.WriteCount(EndLayer, "end_layer");
        w.WriteAddress(Stage);
        w.WriteU64(IssuedMs);
        w.WriteAddress(Gateway);
    }
}
