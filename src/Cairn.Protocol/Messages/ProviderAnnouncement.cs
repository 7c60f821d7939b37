using Cairn.Protocol.Crypto;
using Cairn.Protocol.Encoding;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Validation;

namespace Cairn.Protocol.Messages;

/// <summary>
/// A provider's signed statement that it serves these models at this endpoint for this price, sent when it registers
/// with a gateway. The signature proves the provider holds the key of the address it claims; the timestamp (Unix
/// milliseconds) lets the gateway refuse stale replays.
/// <code>
/// domain "cairn.announce" ‖ version 1 ‖ provider (20) ‖ endpoint (u32 length + UTF-8, ≤ 256) ‖
/// u32 model count (≤ 64) ‖ model hashes (32 each) ‖ u64 price per token ‖ u64 timestamp ms ‖ signature (65)
/// </code>
/// </summary>
public sealed class ProviderAnnouncement
{
    public const string DomainTag = "cairn.announce";
    public const byte Version = 1;
    public const int MaxEndpointBytes = 256;
    public const int MaxModels = 64;

    public required Address Provider { get; init; }
    public required string Endpoint { get; init; }
    public required IReadOnlyList<Hash256> Models { get; init; }
    public ulong PricePerToken { get; init; }
    public ulong TimestampMs { get; init; }
    public Signature Signature { get; init; }

    public byte[] EncodeBody()
    {
        var w = new CanonicalWriter(128 + 32 * Models.Count);
        WriteBody(w);
        return w.ToArray();
    }

    public byte[] Encode()
    {
        var w = new CanonicalWriter(128 + 32 * Models.Count + Signature.Size);
        WriteBody(w);
        w.WriteSignature(Signature);
        return w.ToArray();
    }

    public Hash256 Hash() => Keccak256.Hash(EncodeBody());

    public ProviderAnnouncement Sign(Secp256k1Key key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Address != Provider) throw new ArgumentException($"the announcement names provider {Provider} but the key is {key.Address}", nameof(key));
        return new ProviderAnnouncement
        {
            Provider = Provider,
            Endpoint = Endpoint,
            Models = Models,
            PricePerToken = PricePerToken,
            TimestampMs = TimestampMs,
            Signature = key.Sign(Hash()),
        };
    }

    public ValidationResult Verify() => MessageSignatures.Verify("ProviderAnnouncement", Hash(), Signature, Provider, "provider");

    public static ProviderAnnouncement Decode(ReadOnlySpan<byte> bytes)
    {
        var r = new CanonicalReader(bytes, "ProviderAnnouncement");
        r.ReadDomain(DomainTag, Version);
        var provider = r.ReadAddress("provider");
        string endpoint = r.ReadString("endpoint", MaxEndpointBytes);
        int count = r.ReadCount("models", MaxModels, Hash256.Size);
        var models = new Hash256[count];
        for (int i = 0; i < count; i++) models[i] = r.ReadHash("model");
        var announcement = new ProviderAnnouncement
        {
            Provider = provider,
            Endpoint = endpoint,
            Models = models,
            PricePerToken = r.ReadU64("price_per_token"),
            TimestampMs = r.ReadU64("timestamp_ms"),
            Signature = r.ReadSignature("signature"),
        };
        r.End();
        return announcement;
    }

    public static bool TryDecode(ReadOnlySpan<byte> bytes, out ProviderAnnouncement? announcement, out ValidationResult result) =>
        MessageDecoding.TryDecode(bytes, Decode, out announcement, out result);

    private void WriteBody(CanonicalWriter w)
    {
        w.WriteDomain(DomainTag, Version);
        w.WriteAddress(Provider);
        w.WriteString(Endpoint, MaxEndpointBytes, "endpoint");
        w.WriteCount(Models.Count, "models");
        if (Models.Count > MaxModels) throw new ArgumentException($"an announcement names at most {MaxModels} models");
        foreach (var m in Models) w.WriteHash(m);
        w.WriteU64(PricePerToken);
        w.WriteU64(TimestampMs);
    }
}
