using Cairn.Node.Gateway;
using Cairn.Node.Rpc;
using Google.Protobuf;

namespace Cairn.Node.Tests.Gateway;

/// <summary>How the gateway reads <c>base+adapter…</c> against a provider's announcement (routing and validators use it).</summary>
public sealed class ModelWithAdaptersTests
{
    private static readonly byte[] StyleHash = Enumerable.Range(0, 32).Select(i => (byte)(0xA0 + i)).ToArray();
    private static readonly byte[] OtherHash = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();

    private static ModelInfo Base(params (string Name, byte[] Hash)[] adapters)
    {
        var m = new ModelInfo { Name = "tiny", Hash = ByteString.CopyFrom(new byte[32]) };
        foreach (var (name, hash) in adapters) m.Adapters.Add(new AdapterInfo { Name = name, Hash = ByteString.CopyFrom(hash) });
        return m;
    }

    [Fact]
    public void Adapters_are_found_by_name_or_hash_prefix_in_request_order()
    {
        var announced = new[] { Base(("style", StyleHash), ("other", OtherHash)) };
        var r = ModelWithAdapters.Resolve(announced, "tiny+other+" + Convert.ToHexStringLower(StyleHash)[..8]);
        Assert.NotNull(r);
        Assert.Equal([Convert.ToHexStringLower(OtherHash), Convert.ToHexStringLower(StyleHash)], r.Value.Adapters.Select(h => h.ToString()));
        Assert.Empty(ModelWithAdapters.Resolve(announced, "tiny")!.Value.Adapters);
    }

    [Fact]
    public void A_provider_without_every_requested_adapter_does_not_serve_the_request()
    {
        Assert.Null(ModelWithAdapters.Resolve([Base(("style", StyleHash))], "tiny+other"));
        Assert.Null(ModelWithAdapters.Resolve([Base()], "tiny+style"));
        Assert.Null(ModelWithAdapters.Resolve([Base(("style", StyleHash))], "tiny+a0a1")); // a prefix under 8 digits is not a name
        Assert.Null(ModelWithAdapters.Resolve([Base(("style", StyleHash))], "huge+style"));
    }
}
