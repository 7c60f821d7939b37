using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Messages;
using Cairn.Protocol.Tests.TestSupport;
using Cairn.Protocol.Validation;

namespace Cairn.Protocol.Tests.Messages;

public class StageAssignmentTests
{
    // Frozen: changing any of these is a wire-format change and needs a version bump (docs/protocol.md has the same values).
    public const string GoldenBodyHex =
        "16636169726e2e73746167652d61737369676e6d656e7401" + "1111111111111111111111111111111111111111111111111111111111111111" +
        "04000000" + "08000000" + "2b5ad5c4795c026514f8317c7a215e218dccd6cf" + "0068e5cf8b010000" + "9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f";
    public const string GoldenHash = "caf80dfd84a6122cb0b16134b43eea5d59c8c8565ebdaac19ede84049629defb";
    public const string GoldenSignature =
        "0x0fdc8ab21f67abc1074d63de68946846d21850411007e5626ff15ae91bda31273fbab2358288dc312c09ee3f18bb401485bb0cdd237b0c6557a431e9eb8f840c1b";

    private const ulong Issued = 1_700_000_000_000;
    private const ulong Skew = 120_000;
    private static readonly Address GatewayAddress = Address.Parse("0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F");
    private static readonly Address StageAddress = Address.Parse("0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF");

    [Fact]
    public void The_golden_stage_assignment_encodes_hashes_and_signs_to_the_frozen_bytes()
    {
        var assignment = GoldenMessages.StageAssignment();
        Assert.Equal(GoldenBodyHex, Convert.ToHexStringLower(assignment.EncodeBody()));
        Assert.Equal(GoldenHash, assignment.Hash().ToString());
        Assert.Equal(GoldenHash, Keccak256.Hash(Convert.FromHexString(GoldenBodyHex)).ToString());
        Assert.Equal(GoldenSignature, assignment.Signature.ToString());
        Assert.Equal(GoldenBodyHex + GoldenSignature[2..], Convert.ToHexStringLower(assignment.Encode()));
        Assert.True(assignment.Verify().IsValid);
    }

    [Fact]
    public void A_stage_assignment_round_trips()
    {
        var original = GoldenMessages.StageAssignment();
        var decoded = StageAssignment.Decode(original.Encode());
        Assert.Equal(original.Encode(), decoded.Encode());
        Assert.Equal((original.ModelHash, 4, 8, StageAddress, Issued, GatewayAddress),
            (decoded.ModelHash, decoded.FirstLayer, decoded.EndLayer, decoded.Stage, decoded.IssuedMs, decoded.Gateway));
        Assert.True(decoded.Verify().IsValid);
        Assert.True(StageAssignment.TryDecode(original.Encode(), out var tried, out var ok) && ok.IsValid);
        Assert.Equal(original.Hash(), tried!.Hash());
    }

    [Fact]
    public void Flipping_any_bit_of_the_wire_form_is_caught()
    {
        byte[] wire = GoldenMessages.StageAssignment().Encode();
        for (int i = 0; i < wire.Length; i++)
        {
            foreach (byte mask in new byte[] { 0x01, 0x80 })
            {
                var tampered = (byte[])wire.Clone();
                tampered[i] ^= mask;
                if (StageAssignment.TryDecode(tampered, out var assignment, out var result))
                    Assert.False(assignment!.Accept(GatewayAddress, StageAddress, 0, Issued, Skew).IsValid, $"byte {i} mask {mask:x2} is still accepted");
                else
                    Assert.False(result.IsValid);
            }
        }
    }

    [Fact]
    public void Every_truncation_and_any_trailing_byte_is_rejected()
    {
        byte[] wire = GoldenMessages.StageAssignment().Encode();
        for (int length = 0; length < wire.Length; length++)
        {
            Assert.False(StageAssignment.TryDecode(wire.AsSpan(0, length), out _, out var result));
            Assert.True(result.Code is ProtocolErrors.Truncated or ProtocolErrors.WrongDomain, $"length {length}: {result}");
        }
        Assert.False(StageAssignment.TryDecode([.. wire, 0xff], out _, out var trailing));
        Assert.Equal(ProtocolErrors.TrailingBytes, trailing.Code);
    }

    [Fact]
    public void An_assignment_signed_by_someone_else_or_with_a_bad_range_is_refused()
    {
        using var gateway = GoldenMessages.ClientKey();
        using var other = GoldenMessages.ProviderKey();
        var u = GoldenMessages.UnsignedStageAssignment();
        Assert.Equal(ProtocolErrors.Unsigned, u.Verify().Code);
        var forged = StageAssignment.Decode([.. u.EncodeBody(), .. other.Sign(u.Hash()).ToArray()]);
        var wrong = forged.Verify();
        Assert.Equal(ProtocolErrors.WrongSigner, wrong.Code);
        Assert.Contains(other.Address.ToString(), wrong.Message);
        Assert.Throws<ArgumentException>(() => u.Sign(other));

        StageAssignment Range(int first, int end) => new StageAssignment
        {
            ModelHash = u.ModelHash,
            FirstLayer = first,
            EndLayer = end,
            Stage = u.Stage,
            IssuedMs = u.IssuedMs,
            Gateway = u.Gateway,
        }.Sign(gateway);
        Assert.Equal(ProtocolErrors.InvalidParameter, Range(4, 4).Verify().Code);
        Assert.Equal(ProtocolErrors.InvalidParameter, Range(5, 4).Verify().Code);
        Assert.Equal(ProtocolErrors.InvalidParameter, Range(0, StageAssignment.MaxLayers + 1).Verify().Code);
        Assert.True(Range(0, 1).Verify().IsValid);
    }

    [Fact]
    public void A_stage_accepts_only_its_gateways_fresh_orders_addressed_to_it()
    {
        var golden = GoldenMessages.StageAssignment();
        Assert.True(golden.Accept(GatewayAddress, StageAddress, 0, Issued, Skew).IsValid);
        Assert.True(golden.Accept(GatewayAddress, StageAddress, Issued - 1, Issued + Skew, Skew).IsValid);

        // Validly signed, but by a gateway that is not this stage's.
        using var stranger = Secp256k1Key.FromPrivateKey(Convert.FromHexString("0000000000000000000000000000000000000000000000000000000000000003"));
        var foreign = new StageAssignment
        {
            ModelHash = golden.ModelHash,
            FirstLayer = 4,
            EndLayer = 8,
            Stage = StageAddress,
            IssuedMs = Issued,
            Gateway = stranger.Address,
        }.Sign(stranger);
        Assert.True(foreign.Verify().IsValid);
        var notOurs = foreign.Accept(GatewayAddress, StageAddress, 0, Issued, Skew);
        Assert.Equal(ProtocolErrors.WrongSigner, notOurs.Code);
        Assert.Contains(stranger.Address.ToString(), notOurs.Message);

        var elsewhere = golden.Accept(GatewayAddress, stranger.Address, 0, Issued, Skew);
        Assert.Equal(ProtocolErrors.WrongRecipient, elsewhere.Code);

        Assert.Equal(ProtocolErrors.Replayed, golden.Accept(GatewayAddress, StageAddress, Issued, Issued, Skew).Code);
        Assert.Equal(ProtocolErrors.Replayed, golden.Accept(GatewayAddress, StageAddress, Issued + 1, Issued, Skew).Code);

        Assert.Equal(ProtocolErrors.Stale, golden.Accept(GatewayAddress, StageAddress, 0, Issued + Skew + 1, Skew).Code);
        Assert.Equal(ProtocolErrors.Stale, golden.Accept(GatewayAddress, StageAddress, 0, Issued - Skew - 1, Skew).Code);

        // Verify comes first: an unsigned order is refused as such whatever else holds.
        Assert.Equal(ProtocolErrors.Unsigned, GoldenMessages.UnsignedStageAssignment().Accept(GatewayAddress, StageAddress, 0, Issued, Skew).Code);
    }
}
