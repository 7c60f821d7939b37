using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Messages;

namespace Cairn.Protocol.Tests.TestSupport;

/// <summary>The fixed messages whose encodings, hashes and signatures are frozen in the golden tests and docs/protocol.md.</summary>
public static class GoldenMessages
{
    /// <summary>EIP-155's example key; address 0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F.</summary>
    public static Secp256k1Key ClientKey() => Secp256k1Key.FromPrivateKey(Convert.FromHexString("4646464646464646464646464646464646464646464646464646464646464646"));

    /// <summary>Private key 2; address 0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF.</summary>
    public static Secp256k1Key ProviderKey() => Secp256k1Key.FromPrivateKey(Convert.FromHexString("0000000000000000000000000000000000000000000000000000000000000002"));

    public static InferenceRequest UnsignedRequest() => new()
    {
        ModelHash = Hash256.Parse(string.Concat(Enumerable.Repeat("11", 32))),
        AdapterHashes = [Hash256.Parse(string.Concat(Enumerable.Repeat("22", 32))), Hash256.Parse(string.Concat(Enumerable.Repeat("33", 32)))],
        PromptTokens = [1, 15043, 3186, 29991],
        Sampling = new SamplingParameters { Temperature = 0.7f, TopK = 40, TopP = 0.9f, MinP = 0.05f, RepeatPenalty = 1.1f, RepeatLastN = 64 },
        Seed = 42,
        MaxTokens = 128,
        PriceLimit = 1_000_000,
        Client = Address.Parse("0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F"),
        Nonce = 7,
    };

    public static InferenceRequest Request()
    {
        using var key = ClientKey();
        return UnsignedRequest().Sign(key);
    }

    public static Receipt UnsignedReceipt() => new()
    {
        RequestHash = UnsignedRequest().Hash(),
        OutputCommitment = Hash256.Parse(string.Concat(Enumerable.Repeat("44", 32))),
        TraceRoot = Hash256.Parse(string.Concat(Enumerable.Repeat("55", 32))),
        PromptTokens = 4,
        CompletionTokens = 100,
        Price = 250_000,
        Provider = Address.Parse("0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF"),
        EngineBuild = "cairn-engine 0.1 avx2",
    };

    public static Receipt Receipt()
    {
        using var key = ProviderKey();
        return UnsignedReceipt().Sign(key);
    }

    /// <summary>The middle stage (layers 4..7 of 12) of the golden request, 103 steps, part root 66…66.</summary>
    public static StagePart UnsignedStagePart() => new()
    {
        RequestHash = UnsignedRequest().Hash(),
        ModelHash = UnsignedRequest().ModelHash,
        FirstLayer = 4,
        EndLayer = 8,
        LayerCount = 12,
        Steps = 103,
        PartRoot = Hash256.Parse(string.Concat(Enumerable.Repeat("66", 32))),
        Provider = Address.Parse("0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF"),
    };

    public static StagePart StagePart()
    {
        using var key = ProviderKey();
        return UnsignedStagePart().Sign(key);
    }

    /// <summary>The gateway (key 0x4646…46) assigns layers 4..7 of model 11…11 to stage 0x2B5A…D6cF, issued at 1,700,000,000,000 ms.</summary>
    public static StageAssignment UnsignedStageAssignment() => new()
    {
        ModelHash = Hash256.Parse(string.Concat(Enumerable.Repeat("11", 32))),
        FirstLayer = 4,
        EndLayer = 8,
        Stage = Address.Parse("0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF"),
        IssuedMs = 1_700_000_000_000,
        Gateway = Address.Parse("0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F"),
    };

    public static StageAssignment StageAssignment()
    {
        using var key = ClientKey();
        return UnsignedStageAssignment().Sign(key);
    }
}
