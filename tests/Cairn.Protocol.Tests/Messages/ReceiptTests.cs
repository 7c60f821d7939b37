using Cairn.Protocol.Crypto;
using Cairn.Protocol.Encoding;
using Cairn.Protocol.Messages;
using Cairn.Protocol.Tests.TestSupport;
using Cairn.Protocol.Validation;

namespace Cairn.Protocol.Tests.Messages;

public class ReceiptTests
{
    // Frozen: changing any of these is a wire-format change and needs a version bump (docs/protocol.md has the same values).
    public const string GoldenBodyHex =
        "0d636169726e2e7265636569707401" + InferenceRequestTests.GoldenHash +
        "4444444444444444444444444444444444444444444444444444444444444444" + "5555555555555555555555555555555555555555555555555555555555555555" +
        "04000000" + "64000000" + "90d0030000000000" + "2b5ad5c4795c026514f8317c7a215e218dccd6cf" +
        "15000000" + "636169726e2d656e67696e6520302e312061767832";
    public const string GoldenHash = "e71e2183d46e2f6181a85d9894a25154b73912b8de487e5bf8f3c6120378fc95";
    public const string GoldenSignature =
        "0x29ec6cdafcefb1c9362ff38af7b94a4cd5721e8a4943c16c2cc146647ac514f3619386bfc7d6527f971777f8df8e43614503c295014d37333bf363bb882dbb9a1c";

    [Fact]
    public void The_golden_receipt_encodes_hashes_and_signs_to_the_frozen_bytes()
    {
        var receipt = GoldenMessages.Receipt();
        Assert.Equal(GoldenBodyHex, Convert.ToHexStringLower(receipt.EncodeBody()));
        Assert.Equal(GoldenHash, receipt.Hash().ToString());
        Assert.Equal(GoldenHash, Keccak256.Hash(Convert.FromHexString(GoldenBodyHex)).ToString());
        Assert.Equal(GoldenSignature, receipt.Signature.ToString());
        Assert.Equal(GoldenBodyHex + GoldenSignature[2..], Convert.ToHexStringLower(receipt.Encode()));
        Assert.True(receipt.Verify().IsValid);
        Assert.True(receipt.Verify(GoldenMessages.Request()).IsValid);
    }

    [Fact]
    public void A_receipt_round_trips_through_its_wire_form()
    {
        var receipt = GoldenMessages.Receipt();
        var decoded = Receipt.Decode(receipt.Encode());
        Assert.Equal(receipt.Encode(), decoded.Encode());
        Assert.Equal(receipt.EngineBuild, decoded.EngineBuild);
        Assert.Equal(receipt.Provider, decoded.Provider);
        Assert.True(decoded.Verify().IsValid);
    }

    [Fact]
    public void Flipping_any_bit_of_the_wire_form_is_caught()
    {
        byte[] wire = GoldenMessages.Receipt().Encode();
        for (int i = 0; i < wire.Length; i++)
        {
            foreach (byte mask in new byte[] { 0x01, 0x80 })
            {
                var tampered = (byte[])wire.Clone();
                tampered[i] ^= mask;
                if (Receipt.TryDecode(tampered, out var receipt, out var result))
                    Assert.False(receipt!.Verify().IsValid, $"byte {i} mask {mask:x2} still verifies");
                else
                    Assert.False(result.IsValid);
            }
        }
    }

    [Fact]
    public void Every_truncation_and_any_trailing_byte_is_rejected()
    {
        byte[] wire = GoldenMessages.Receipt().Encode();
        for (int length = 0; length < wire.Length; length++)
        {
            Assert.False(Receipt.TryDecode(wire.AsSpan(0, length), out _, out var result));
            Assert.True(result.Code is ProtocolErrors.Truncated or ProtocolErrors.WrongDomain, $"length {length}: {result}");
        }
        Assert.False(Receipt.TryDecode([.. wire, 0xff], out _, out var trailing));
        Assert.Equal(ProtocolErrors.TrailingBytes, trailing.Code);
    }

    [Fact]
    public void An_oversized_or_invalid_engine_build_is_rejected()
    {
        byte[] wire = GoldenMessages.Receipt().Encode();
        int lengthOffset = 15 + 3 * 32 + 4 + 4 + 8 + 20;
        var tampered = (byte[])wire.Clone();
        BitConverter.TryWriteBytes(tampered.AsSpan(lengthOffset), 100_000u);
        var e = Assert.Throws<CanonicalFormatException>(() => Receipt.Decode(tampered));
        Assert.Equal(ProtocolErrors.LengthOutOfRange, e.Code);
        Assert.Contains("engine_build", e.Message);

        tampered = (byte[])wire.Clone();
        tampered[lengthOffset + 4] = 0xff; // not UTF-8
        Assert.Equal(ProtocolErrors.Malformed, Assert.Throws<CanonicalFormatException>(() => Receipt.Decode(tampered)).Code);

        var tooLong = new Receipt
        {
            RequestHash = Hash256.Zero,
            OutputCommitment = Hash256.Zero,
            TraceRoot = Hash256.Zero,
            PromptTokens = 1,
            CompletionTokens = 1,
            Provider = GoldenMessages.UnsignedReceipt().Provider,
            EngineBuild = new string('x', Receipt.MaxEngineBuildBytes + 1),
        };
        Assert.Throws<ArgumentException>(() => tooLong.Encode());
    }

    [Fact]
    public void A_receipt_signed_by_someone_else_is_a_wrong_signer()
    {
        using var client = GoldenMessages.ClientKey();
        var receipt = GoldenMessages.UnsignedReceipt();
        var forged = new Receipt
        {
            RequestHash = receipt.RequestHash,
            OutputCommitment = receipt.OutputCommitment,
            TraceRoot = receipt.TraceRoot,
            PromptTokens = receipt.PromptTokens,
            CompletionTokens = receipt.CompletionTokens,
            Price = receipt.Price,
            Provider = receipt.Provider,
            EngineBuild = receipt.EngineBuild,
            Signature = client.Sign(receipt.Hash()),
        };
        var result = forged.Verify();
        Assert.Equal(ProtocolErrors.WrongSigner, result.Code);
        Assert.Contains(client.Address.ToString(), result.Message);
        Assert.Equal(ProtocolErrors.Unsigned, receipt.Verify().Code);
    }

    [Fact]
    public void A_receipt_for_another_request_or_over_its_limits_is_a_mismatch()
    {
        var request = GoldenMessages.Request();
        using var provider = GoldenMessages.ProviderKey();
        var r = GoldenMessages.UnsignedReceipt();
        Receipt Make(Hash256 requestHash, int prompt, int completion, ulong price) => new Receipt
        {
            RequestHash = requestHash,
            OutputCommitment = r.OutputCommitment,
            TraceRoot = r.TraceRoot,
            PromptTokens = prompt,
            CompletionTokens = completion,
            Price = price,
            Provider = r.Provider,
            EngineBuild = r.EngineBuild,
        }.Sign(provider);
        Assert.True(Make(r.RequestHash, 4, 100, 250_000).Verify(request).IsValid);
        Assert.Equal(ProtocolErrors.RequestMismatch, Make(Hash256.Zero, 4, 100, 250_000).Verify(request).Code);
        Assert.Equal(ProtocolErrors.RequestMismatch, Make(r.RequestHash, 5, 100, 250_000).Verify(request).Code);
        Assert.Equal(ProtocolErrors.RequestMismatch, Make(r.RequestHash, 4, 129, 250_000).Verify(request).Code);
        Assert.Equal(ProtocolErrors.RequestMismatch, Make(r.RequestHash, 4, 100, 1_000_001).Verify(request).Code);
    }
}
