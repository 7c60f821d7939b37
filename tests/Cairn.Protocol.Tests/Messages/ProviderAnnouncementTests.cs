using Cairn.Protocol.Crypto;
using Cairn.Protocol.Messages;
using Cairn.Protocol.Tests.TestSupport;

namespace Cairn.Protocol.Tests.Messages;

public class ProviderAnnouncementTests
{
    private static ProviderAnnouncement Golden()
    {
        using var key = GoldenMessages.ProviderKey();
        return new ProviderAnnouncement
        {
            Provider = key.Address,
            Endpoint = "http://127.0.0.1:5001",
            Models = [Hash256.Parse(string.Concat(Enumerable.Repeat("11", 32)))],
            PricePerToken = 3,
            TimestampMs = 1_700_000_000_000,
        }.Sign(key);
    }

    // Frozen: changing it is a wire-format change and needs a version bump.
    public const string GoldenBodyHex =
        "0e636169726e2e616e6e6f756e636501" + "2b5ad5c4795c026514f8317c7a215e218dccd6cf" +
        "15000000" + "687474703a2f2f3132372e302e302e313a35303031" +
        "01000000" + "1111111111111111111111111111111111111111111111111111111111111111" +
        "0300000000000000" + "0068e5cf8b010000";

    [Fact]
    public void The_golden_announcement_encodes_to_the_frozen_bytes_and_verifies()
    {
        var a = Golden();
        Assert.Equal(GoldenBodyHex, Convert.ToHexStringLower(a.EncodeBody()));
        Assert.Equal(Keccak256.Hash(Convert.FromHexString(GoldenBodyHex)), a.Hash());
        Assert.True(a.Verify().IsValid);
        var decoded = ProviderAnnouncement.Decode(a.Encode());
        Assert.Equal(a.Encode(), decoded.Encode());
        Assert.True(decoded.Verify().IsValid);
    }

    [Fact]
    public void Any_flipped_bit_or_a_claim_of_another_address_is_caught()
    {
        byte[] wire = Golden().Encode();
        for (int i = 0; i < wire.Length; i++)
        {
            var tampered = (byte[])wire.Clone();
            tampered[i] ^= 0x01;
            if (ProviderAnnouncement.TryDecode(tampered, out var a, out var result)) Assert.False(a!.Verify().IsValid, $"byte {i} still verifies");
            else Assert.False(result.IsValid);
        }
        using var other = GoldenMessages.ClientKey();
        var forged = new ProviderAnnouncement { Provider = Golden().Provider, Endpoint = "http://127.0.0.1:1", Models = [], TimestampMs = 1 };
        Assert.Throws<ArgumentException>(() => forged.Sign(other));
        var signedByOther = new ProviderAnnouncement { Provider = other.Address, Endpoint = "x", Models = [] }.Sign(other);
        var claimed = ProviderAnnouncement.Decode(signedByOther.Encode());
        var lying = new ProviderAnnouncement { Provider = Golden().Provider, Endpoint = "x", Models = [], Signature = claimed.Signature };
        Assert.False(lying.Verify().IsValid);
    }

    [Fact]
    public void Truncated_and_oversized_announcements_are_refused()
    {
        byte[] wire = Golden().Encode();
        for (int n = 0; n < wire.Length; n++) Assert.False(ProviderAnnouncement.TryDecode(wire.AsSpan(0, n), out _, out _));
        Assert.False(ProviderAnnouncement.TryDecode([.. wire, 0], out _, out _));
        var tooMany = new ProviderAnnouncement { Provider = Golden().Provider, Endpoint = "x", Models = Enumerable.Repeat(Hash256.Zero, 65).ToArray() };
        Assert.ThrowsAny<Exception>(() => tooMany.EncodeBody());
    }
}
