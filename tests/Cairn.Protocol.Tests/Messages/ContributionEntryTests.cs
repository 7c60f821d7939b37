using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Messages;
using Cairn.Protocol.Tests.TestSupport;
using Cairn.Protocol.Validation;

namespace Cairn.Protocol.Tests.Messages;

public class ContributionEntryTests
{
    private static readonly Address ProviderA = Address.Parse("0x1111111111111111111111111111111111111111");
    private static readonly Address ProviderB = Address.Parse("0x2222222222222222222222222222222222222222");

    private static ContributionEntry Unsigned(Address publisher) => new()
    {
        Kind = ContributionKind.Adapter,
        Name = "tiny-lora.v1",
        FileSha256 = Hash256.Parse(string.Concat(Enumerable.Repeat("aa", 32))),
        BaseModel = Hash256.Parse(string.Concat(Enumerable.Repeat("bb", 32))),
        RoyaltyBps = 250,
        License = "Apache-2.0",
        Payout = Address.Parse("0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F"),
        Publisher = publisher,
        Visibility = ContributionVisibility.Private,
        AllowedProviders = [ProviderA, ProviderB],
    };

    private static ContributionEntry Golden()
    {
        using var key = GoldenMessages.ProviderKey();
        return Unsigned(key.Address).Sign(key);
    }

    // Frozen: changing it is a wire-format change and needs a version bump.
    public const string GoldenBodyHex =
        "12636169726e2e636f6e747269627574696f6e01" + "02" + "0c00000074696e792d6c6f72612e7631" +
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" +
        "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" +
        "fa000000" + "0a0000004170616368652d322e30" +
        "9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f" + "2b5ad5c4795c026514f8317c7a215e218dccd6cf" +
        "01" + "02000000" + "1111111111111111111111111111111111111111" + "2222222222222222222222222222222222222222";
    public const string GoldenHash = "05f3982df94a72d047ab22a1b811f87bcdb841cfc850f8ed87cac197c3c8da7d";

    [Fact]
    public void The_golden_entry_encodes_to_the_frozen_bytes_and_verifies()
    {
        var e = Golden();
        Assert.Equal(GoldenBodyHex, Convert.ToHexStringLower(e.EncodeBody()));
        Assert.Equal(GoldenHash, e.Hash().ToString());
        Assert.Equal(Keccak256.Hash(Convert.FromHexString(GoldenBodyHex)), e.Hash());
        Assert.True(e.Verify().IsValid, e.Verify().ToString());
        var decoded = ContributionEntry.Decode(e.Encode());
        Assert.Equal(e.Encode(), decoded.Encode());
        Assert.True(decoded.Verify().IsValid);
        Assert.True(decoded.Allows(ProviderB));
        Assert.False(decoded.Allows(e.Publisher));
    }

    [Fact]
    public void Any_flipped_bit_or_a_signature_by_someone_else_is_caught()
    {
        byte[] wire = Golden().Encode();
        for (int i = 0; i < wire.Length; i++)
        {
            var tampered = (byte[])wire.Clone();
            tampered[i] ^= 0x01;
            if (ContributionEntry.TryDecode(tampered, out var e, out var result)) Assert.False(e!.Verify().IsValid, $"byte {i} still verifies");
            else Assert.False(result.IsValid);
        }
        using var key = GoldenMessages.ProviderKey();
        using var other = GoldenMessages.ClientKey();
        Assert.Throws<ArgumentException>(() => Unsigned(key.Address).Sign(other));
        var forged = Unsigned(key.Address);
        var signedByOther = forged.WithSignature(other.Sign(forged.Hash()));
        var verdict = signedByOther.Verify();
        Assert.Equal(ProtocolErrors.WrongSigner, verdict.Code);
        Assert.Contains($"signed by {other.Address}, not by its publisher {key.Address}", verdict.Message);
        Assert.Equal(ProtocolErrors.Unsigned, forged.Verify().Code);
    }

    [Fact]
    public void Truncated_oversized_and_rule_breaking_entries_are_refused_with_the_field_named()
    {
        byte[] wire = Golden().Encode();
        for (int n = 0; n < wire.Length; n++) Assert.False(ContributionEntry.TryDecode(wire.AsSpan(0, n), out _, out _));
        Assert.False(ContributionEntry.TryDecode([.. wire, 0], out _, out _));

        using var key = GoldenMessages.ProviderKey();
        var good = Unsigned(key.Address);
        (ContributionEntry Entry, string Problem)[] bad =
        [
            (With(good, royalty: 10_001), "royalty_bps is 10001; it must be 0 to 10000"),
            (With(good, name: "no spaces"), "name \"no spaces\" has ' '"),
            (With(good, name: new string('a', 65)), "name is 65 characters"),
            (With(good, allowed: [ProviderB, ProviderA]), "ascending and distinct"),
            (With(good, allowed: [ProviderA, ProviderA]), "ascending and distinct"),
            (With(good, allowed: []), "a private contribution must allow at least one provider"),
            (With(good, visibility: ContributionVisibility.Public), "a public contribution lists no allowed providers"),
            (With(good, baseModel: Hash256.Zero), "an adapter must name the SHA-256 of its base model"),
            (With(good, kind: ContributionKind.Model), "a model names no base_model"),
            (With(good, license: new string('x', 257)), "license is 257 bytes"),
        ];
        foreach (var (entry, problem) in bad)
        {
            Assert.Contains(problem, entry.Check());
            if (entry.License.Length > ContributionEntry.MaxLicenseBytes || entry.Name.Length > ContributionEntry.MaxNameLength)
            {
                Assert.ThrowsAny<Exception>(() => entry.EncodeBody()); // the writer refuses what no decoder would accept
                continue;
            }
            var signed = entry.Sign(key);
            var verdict = signed.Verify();
            Assert.Equal(ProtocolErrors.InvalidParameter, verdict.Code);
            Assert.Contains(problem, verdict.Message);
            Assert.False(ContributionEntry.TryDecode(signed.Encode(), out _, out var result));
            Assert.Contains(problem, result.Message);
        }
    }

    private static ContributionEntry With(ContributionEntry e, int? royalty = null, string? name = null, Address[]? allowed = null,
        ContributionVisibility? visibility = null, Hash256? baseModel = null, ContributionKind? kind = null, string? license = null) => new()
        {
            Kind = kind ?? e.Kind,
            Name = name ?? e.Name,
            FileSha256 = e.FileSha256,
            BaseModel = baseModel ?? e.BaseModel,
            RoyaltyBps = royalty ?? e.RoyaltyBps,
            License = license ?? e.License,
            Payout = e.Payout,
            Publisher = e.Publisher,
            Visibility = visibility ?? e.Visibility,
            AllowedProviders = allowed ?? e.AllowedProviders,
        };
}
