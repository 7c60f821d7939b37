using Cairn.Protocol.Crypto;
using Cairn.Protocol.Encoding;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Messages;
using Cairn.Protocol.Tests.TestSupport;
using Cairn.Protocol.Validation;

namespace Cairn.Protocol.Tests.Messages;

public class InferenceRequestTests
{
    // Frozen: changing any of these is a wire-format change and needs a version bump (docs/protocol.md has the same values).
    public const string GoldenBodyHex =
        "0d636169726e2e72657175657374011111111111111111111111111111111111111111111111111111111111111111" +
        "02000000" + "2222222222222222222222222222222222222222222222222222222222222222" + "3333333333333333333333333333333333333333333333333333333333333333" +
        "04000000" + "01000000c33a0000720c000027750000" +
        "3333333f" + "28000000" + "6666663f" + "cdcc4c3d" + "cdcc8c3f" + "40000000" +
        "2a00000000000000" + "80000000" + "40420f0000000000" + "9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f" + "0700000000000000";
    public const string GoldenHash = "2055064d7d4cef4720b327186ad14e1378d2db2276842e8443847dd1e211e9b1";
    public const string GoldenSignature =
        "0x6a9253910d56208405a3a132913aaa764e2b149365269da46a4b5886365a7be167db6a0a9cf28932aa731912e5d5755f046a00c022162a686181b12feb08940c1b";

    [Fact]
    public void The_golden_request_encodes_hashes_and_signs_to_the_frozen_bytes()
    {
        var request = GoldenMessages.Request();
        Assert.Equal(GoldenBodyHex, Convert.ToHexStringLower(request.EncodeBody()));
        Assert.Equal(GoldenHash, request.Hash().ToString());
        Assert.Equal(GoldenHash, Keccak256.Hash(Convert.FromHexString(GoldenBodyHex)).ToString());
        Assert.Equal(GoldenSignature, request.Signature.ToString());
        Assert.Equal(GoldenBodyHex + GoldenSignature[2..], Convert.ToHexStringLower(request.Encode()));
        Assert.True(request.Verify().IsValid);
    }

    [Fact]
    public void A_request_round_trips_through_its_wire_form()
    {
        var request = GoldenMessages.Request();
        byte[] wire = request.Encode();
        var decoded = InferenceRequest.Decode(wire);
        Assert.Equal(wire, decoded.Encode());
        Assert.Equal(request.Hash(), decoded.Hash());
        Assert.Equal(request.PromptTokens, decoded.PromptTokens);
        Assert.Equal(request.AdapterHashes, decoded.AdapterHashes);
        Assert.Equal(request.Sampling, decoded.Sampling);
        Assert.Equal(request.Client, decoded.Client);
        Assert.True(decoded.Verify().IsValid);
    }

    [Fact]
    public void Floats_keep_their_exact_bits_including_negative_zero_and_NaN_payloads()
    {
        var odd = GoldenMessages.UnsignedRequest();
        odd = new InferenceRequest
        {
            ModelHash = odd.ModelHash,
            PromptTokens = odd.PromptTokens,
            MaxTokens = 1,
            Client = odd.Client,
            Sampling = new SamplingParameters { Temperature = -0f, TopP = BitConverter.UInt32BitsToSingle(0x7fc00001), MinP = float.Epsilon },
        };
        var back = InferenceRequest.Decode(odd.Encode());
        Assert.Equal(0x80000000u, BitConverter.SingleToUInt32Bits(back.Sampling.Temperature));
        Assert.Equal(0x7fc00001u, BitConverter.SingleToUInt32Bits(back.Sampling.TopP));
        Assert.Equal(float.Epsilon, back.Sampling.MinP);
        Assert.NotEqual(odd.Hash(), GoldenMessages.UnsignedRequest().Hash());
    }

    [Fact]
    public void Flipping_any_bit_of_the_wire_form_is_caught()
    {
        byte[] wire = GoldenMessages.Request().Encode();
        for (int i = 0; i < wire.Length; i++)
        {
            foreach (byte mask in new byte[] { 0x01, 0x80 })
            {
                var tampered = (byte[])wire.Clone();
                tampered[i] ^= mask;
                if (InferenceRequest.TryDecode(tampered, out var request, out var result))
                    Assert.False(request!.Verify().IsValid, $"byte {i} mask {mask:x2} still verifies");
                else
                    Assert.False(result.IsValid);
            }
        }
    }

    [Fact]
    public void Every_truncation_is_rejected_as_truncated()
    {
        byte[] wire = GoldenMessages.Request().Encode();
        for (int length = 0; length < wire.Length; length++)
        {
            Assert.False(InferenceRequest.TryDecode(wire.AsSpan(0, length), out _, out var result));
            Assert.True(result.Code is ProtocolErrors.Truncated or ProtocolErrors.WrongDomain, $"length {length}: {result}");
        }
    }

    [Fact]
    public void Trailing_bytes_are_rejected()
    {
        byte[] wire = [.. GoldenMessages.Request().Encode(), 0];
        var e = Assert.Throws<CanonicalFormatException>(() => InferenceRequest.Decode(wire));
        Assert.Equal(ProtocolErrors.TrailingBytes, e.Code);
        Assert.Contains("1 bytes follow", e.Message);
    }

    [Fact]
    public void An_absurd_prompt_length_is_rejected_before_allocating()
    {
        byte[] wire = GoldenMessages.Request().Encode();
        int countOffset = 15 + 32 + 4 + 2 * 32; // domain, model, adapter count and hashes
        var tampered = (byte[])wire.Clone();
        BitConverter.TryWriteBytes(tampered.AsSpan(countOffset), 0xffffffffu);
        var e = Assert.Throws<CanonicalFormatException>(() => InferenceRequest.Decode(tampered));
        Assert.Equal(ProtocolErrors.LengthOutOfRange, e.Code);
        Assert.Contains("prompt_tokens count is 4294967295; the maximum is 1048576", e.Message);
        BitConverter.TryWriteBytes(tampered.AsSpan(countOffset), 1_000_000u);
        Assert.Equal(ProtocolErrors.Truncated, Assert.Throws<CanonicalFormatException>(() => InferenceRequest.Decode(tampered)).Code);
    }

    [Fact]
    public void A_receipt_is_not_a_request()
    {
        var e = Assert.Throws<CanonicalFormatException>(() => InferenceRequest.Decode(GoldenMessages.Receipt().Encode()));
        Assert.Equal(ProtocolErrors.WrongDomain, e.Code);
        Assert.Contains("\"cairn.receipt\", expected \"cairn.request\"", e.Message);
    }

    [Fact]
    public void An_unknown_version_is_rejected()
    {
        byte[] wire = GoldenMessages.Request().Encode();
        wire[14] = 2;
        Assert.Equal(ProtocolErrors.UnsupportedVersion, Assert.Throws<CanonicalFormatException>(() => InferenceRequest.Decode(wire)).Code);
    }

    [Fact]
    public void Verification_tells_unsigned_bad_and_foreign_signatures_apart()
    {
        Assert.Equal(ProtocolErrors.Unsigned, GoldenMessages.UnsignedRequest().Verify().Code);

        byte[] wire = GoldenMessages.Request().Encode();
        wire[^1] = 30; // v outside 27/28
        Assert.Equal(ProtocolErrors.BadSignature, InferenceRequest.Decode(wire).Verify().Code);

        using var provider = GoldenMessages.ProviderKey();
        var foreign = new InferenceRequest
        {
            ModelHash = Hash256.Zero,
            PromptTokens = [1],
            MaxTokens = 1,
            Client = GoldenMessages.UnsignedRequest().Client,
            Signature = provider.Sign(GoldenMessages.UnsignedRequest().Hash()),
        };
        var result = foreign.Verify();
        Assert.Equal(ProtocolErrors.WrongSigner, result.Code);
    }

    [Fact]
    public void Signing_with_a_key_other_than_the_clients_is_a_caller_error()
    {
        using var provider = GoldenMessages.ProviderKey();
        Assert.Throws<ArgumentException>(() => GoldenMessages.UnsignedRequest().Sign(provider));
    }

    [Fact]
    public void Parameters_outside_the_engine_ranges_are_reported()
    {
        Assert.True(GoldenMessages.UnsignedRequest().CheckParameters().IsValid);
        var bad = new InferenceRequest
        {
            ModelHash = Hash256.Zero,
            PromptTokens = [1],
            MaxTokens = 1,
            Client = Address.Zero,
            Sampling = new SamplingParameters { TopP = float.NaN },
        };
        var result = bad.CheckParameters();
        Assert.Equal(ProtocolErrors.InvalidParameter, result.Code);
        Assert.Contains("top_p", result.Message);
        Assert.Equal(ProtocolErrors.InvalidParameter, new InferenceRequest { ModelHash = Hash256.Zero, PromptTokens = [], MaxTokens = 1, Client = Address.Zero }.CheckParameters().Code);
        Assert.Equal(ProtocolErrors.InvalidParameter, new InferenceRequest { ModelHash = Hash256.Zero, PromptTokens = [1], MaxTokens = 0, Client = Address.Zero }.CheckParameters().Code);
    }

    [Fact]
    public void Negative_token_ids_cannot_be_encoded()
    {
        var bad = new InferenceRequest { ModelHash = Hash256.Zero, PromptTokens = [-1], MaxTokens = 1, Client = Address.Zero };
        Assert.Throws<ArgumentOutOfRangeException>(() => bad.Encode());
    }

    [Fact]
    public void Token_ids_above_int_max_are_rejected_on_decode()
    {
        byte[] wire = GoldenMessages.Request().Encode();
        int firstToken = 15 + 32 + 4 + 2 * 32 + 4;
        BitConverter.TryWriteBytes(wire.AsSpan(firstToken), 0x80000000u);
        Assert.Equal(ProtocolErrors.LengthOutOfRange, Assert.Throws<CanonicalFormatException>(() => InferenceRequest.Decode(wire)).Code);
    }
}
