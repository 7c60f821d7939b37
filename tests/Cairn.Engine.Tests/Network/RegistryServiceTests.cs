using System.Security.Cryptography;
using Cairn.Node.Gateway;
using Cairn.Node.Rpc;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Messages;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cairn.Engine.Tests.Network;

public sealed class RegistryServiceTests
{
    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
    private static readonly byte[] ModelHash = SHA256.HashData("model"u8);

    private static RegisterRequest Request(Secp256k1Key signer, Address claimed, string endpoint = "http://127.0.0.1:5001", DateTimeOffset? at = null)
    {
        var announcement = new ProviderAnnouncement
        {
            Provider = signer.Address,
            Endpoint = endpoint,
            Models = [new Hash256(ModelHash)],
            PricePerToken = 1,
            TimestampMs = (ulong)(at ?? Now).ToUnixTimeMilliseconds(),
        }.Sign(signer);
        var r = new RegisterRequest
        {
            ProviderId = claimed.ToString(),
            Endpoint = "http://127.0.0.1:5001",
            DecodeTokS = 10,
            PricePerToken = 1,
            Announcement = ByteString.CopyFrom(announcement.Encode()),
        };
        r.Models.Add(new ModelInfo { Name = "m", Hash = ByteString.CopyFrom(ModelHash), ContextLength = 128 });
        return r;
    }

    private static (RegistryService Service, ProviderDirectory Directory, GatewayLedger Ledger) Service()
    {
        var time = new FixedTime(Now);
        var directory = new ProviderDirectory(time);
        var gateway = new GatewayState(Secp256k1Key.Generate(RandomNumberGenerator.Create()));
        var ledger = new GatewayLedger(new GatewayOptions { ApiKeys = new Dictionary<string, Address>(), DataDirectory = Directory.CreateTempSubdirectory("cairn-registry-").FullName });
        return (new RegistryService(directory, gateway, ledger, time, NullLogger<RegistryService>.Instance), directory, ledger);
    }

    [Fact]
    public async Task A_provider_proving_its_key_is_registered_and_told_the_gateway_id()
    {
        var (service, directory, ledger) = Service();
        using var key = Secp256k1Key.Generate(RandomNumberGenerator.Create());
        Assert.False(ledger.IsEligible(key.Address));
        var reply = await service.Register(Request(key, key.Address), null!);
        Assert.True(reply.Accepted, reply.Error);
        Assert.True(ledger.IsEligible(key.Address)); // the local network's faucet bonded the minimum stake
        Assert.True((await service.Register(Request(key, key.Address), null!)).Accepted); // again: no second stake, no error
        ledger.Dispose();
        Assert.StartsWith("0x", reply.GatewayId);
        Assert.Single(directory.Healthy());
    }

    [Fact]
    public async Task Forged_stale_or_inconsistent_announcements_are_refused_and_change_nothing()
    {
        var (service, directory, ledger) = Service();
        using var key = Secp256k1Key.Generate(RandomNumberGenerator.Create());
        using var impostor = Secp256k1Key.Generate(RandomNumberGenerator.Create());
        var cases = new (RegisterRequest Request, string Error)[]
        {
            (Request(impostor, key.Address), "is signed by"),
            (Request(key, key.Address, endpoint: "http://127.0.0.1:6666"), "another endpoint"),
            (Request(key, key.Address, at: Now.AddMinutes(-10)), "off the gateway's clock"),
            (new RegisterRequest(Request(key, key.Address)) { Announcement = ByteString.CopyFrom([1, 2, 3]) }, "announcement:"),
        };
        foreach (var (request, error) in cases)
        {
            var reply = await service.Register(request, null!);
            Assert.False(reply.Accepted);
            Assert.Contains(error, reply.Error);
        }
        Assert.Empty(directory.All());
        Assert.False(ledger.IsEligible(key.Address)); // nothing was bonded for a refused registration
        ledger.Dispose();
    }
}
