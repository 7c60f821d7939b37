using Cairn.Protocol.Crypto;
using Cairn.Protocol.Encoding;
using Cairn.Protocol.Messages;
using Cairn.Protocol.Sampling;
using Cairn.Protocol.Tests.TestSupport;
using Cairn.Protocol.Validation;

namespace Cairn.Protocol.Tests.Messages;

public class StagePartTests
{
    // Frozen: changing any of these is a wire-format change and needs a version bump (docs/protocol.md has the same values).
    public const string GoldenBodyHex =
        "10636169726e2e73746167652d7061727401" + InferenceRequestTests.GoldenHash + "1111111111111111111111111111111111111111111111111111111111111111" +
        "04000000" + "08000000" + "0c000000" + "67000000" + "6666666666666666666666666666666666666666666666666666666666666666" +
        "00000000" + "2b5ad5c4795c026514f8317c7a215e218dccd6cf";
    public const string GoldenHash = "be642cfb026a5ad5854e4b228d90bee410c8a36485226ab3572ce6c37f43046c";
    public const string GoldenSignature =
        "0xa94604e927c4e13c732ccbd959057d7a0c8dadbd930be94631c4a5b9855e363305e141d6a6b7fd42bf9368a67259fb6391df293ff95b694b39932467efb7f2d61c";

    [Fact]
    public void The_golden_stage_part_encodes_hashes_and_signs_to_the_frozen_bytes()
    {
        var part = GoldenMessages.StagePart();
        Assert.Equal(GoldenBodyHex, Convert.ToHexStringLower(part.EncodeBody()));
        Assert.Equal(GoldenHash, part.Hash().ToString());
        Assert.Equal(GoldenHash, Keccak256.Hash(Convert.FromHexString(GoldenBodyHex)).ToString());
        Assert.Equal(GoldenSignature, part.Signature.ToString());
        Assert.Equal(GoldenBodyHex + GoldenSignature[2..], Convert.ToHexStringLower(part.Encode()));
        Assert.True(part.Verify().IsValid);
    }

    [Fact]
    public void A_last_stage_part_round_trips_with_its_tokens()
    {
        using var key = GoldenMessages.ProviderKey();
        var u = GoldenMessages.UnsignedStagePart();
        var last = new StagePart
        {
            RequestHash = u.RequestHash,
            ModelHash = u.ModelHash,
            FirstLayer = 8,
            EndLayer = 12,
            LayerCount = 12,
            Steps = 103,
            PartRoot = u.PartRoot,
            Tokens = [5, 0, 31999],
            Provider = u.Provider,
        }.Sign(key);
        var decoded = StagePart.Decode(last.Encode());
        Assert.Equal(last.Encode(), decoded.Encode());
        Assert.Equal([5, 0, 31999], decoded.Tokens);
        Assert.True(decoded.IsLast);
        Assert.True(decoded.Verify().IsValid);
        var middle = StagePart.Decode(GoldenMessages.StagePart().Encode());
        Assert.False(middle.IsLast);
        Assert.Empty(middle.Tokens);
        Assert.True(middle.Verify().IsValid);
    }

    [Fact]
    public void Flipping_any_bit_of_the_wire_form_is_caught()
    {
        byte[] wire = GoldenMessages.StagePart().Encode();
        for (int i = 0; i < wire.Length; i++)
        {
            foreach (byte mask in new byte[] { 0x01, 0x80 })
            {
                var tampered = (byte[])wire.Clone();
                tampered[i] ^= mask;
                if (StagePart.TryDecode(tampered, out var part, out var result))
                    Assert.False(part!.Verify().IsValid, $"byte {i} mask {mask:x2} still verifies");
                else
                    Assert.False(result.IsValid);
            }
        }
    }

    [Fact]
    public void Every_truncation_and_any_trailing_byte_is_rejected()
    {
        byte[] wire = GoldenMessages.StagePart().Encode();
        for (int length = 0; length < wire.Length; length++)
        {
            Assert.False(StagePart.TryDecode(wire.AsSpan(0, length), out _, out var result));
            Assert.True(result.Code is ProtocolErrors.Truncated or ProtocolErrors.WrongDomain, $"length {length}: {result}");
        }
        Assert.False(StagePart.TryDecode([.. wire, 0xff], out _, out var trailing));
        Assert.Equal(ProtocolErrors.TrailingBytes, trailing.Code);
    }

    [Fact]
    public void A_part_signed_by_someone_else_or_with_a_bad_range_is_refused()
    {
        using var client = GoldenMessages.ClientKey();
        using var provider = GoldenMessages.ProviderKey();
        var u = GoldenMessages.UnsignedStagePart();
        Assert.Equal(ProtocolErrors.Unsigned, u.Verify().Code);
        var forged = StagePart.Decode([.. u.EncodeBody(), .. client.Sign(u.Hash()).ToArray()]);
        var wrong = forged.Verify();
        Assert.Equal(ProtocolErrors.WrongSigner, wrong.Code);
        Assert.Contains(client.Address.ToString(), wrong.Message);
        Assert.Throws<ArgumentException>(() => u.Sign(client));

        StagePart Range(int first, int end, int count, int[] tokens) => new StagePart
        {
            RequestHash = u.RequestHash,
            ModelHash = u.ModelHash,
            FirstLayer = first,
            EndLayer = end,
            LayerCount = count,
            Steps = 1,
            PartRoot = u.PartRoot,
            Tokens = tokens,
            Provider = u.Provider,
        }.Sign(provider);
        Assert.Equal(ProtocolErrors.InvalidParameter, Range(4, 4, 12, []).Verify().Code);
        Assert.Equal(ProtocolErrors.InvalidParameter, Range(4, 13, 12, []).Verify().Code);
        Assert.Equal(ProtocolErrors.InvalidParameter, Range(0, 4, 12, [1]).Verify().Code);
        Assert.True(Range(0, 12, 12, [1]).Verify().IsValid);
    }

    [Fact]
    public void The_part_root_covers_exactly_the_stage_s_layers_of_every_step()
    {
        var rng = new Random(5);
        Hash256 H() { var b = new byte[32]; rng.NextBytes(b); return new Hash256(b); }
        var trace = Enumerable.Range(0, 5).Select(_ => (IReadOnlyList<Hash256>)Enumerable.Range(0, 6).Select(_ => H()).ToArray()).ToArray();
        var expected = TraceMerkle.Root([.. trace.Select(s => TraceMerkle.Root([s[2], s[3], s[4]]))]);
        Assert.Equal(expected, StagePart.RootOf(trace, 2, 5));
        // A hash outside the range does not move the root; one inside does.
        var outside = trace.Select(s => (IReadOnlyList<Hash256>)s.ToArray()).ToArray();
        ((Hash256[])outside[3])[5] = H();
        Assert.Equal(expected, StagePart.RootOf(outside, 2, 5));
        ((Hash256[])outside[3])[4] = H();
        Assert.NotEqual(expected, StagePart.RootOf(outside, 2, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => StagePart.RootOf(trace, 4, 7));
    }
}
