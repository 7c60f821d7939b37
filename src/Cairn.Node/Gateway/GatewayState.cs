using Cairn.Protocol.Identity;

namespace Cairn.Node.Gateway;

/// <summary>The gateway's identity: it signs requests on behalf of API-key clients (DESIGN.md §4).</summary>
public sealed class GatewayState(Secp256k1Key key) : IDisposable
{
    public Secp256k1Key Key { get; } = key;
    public Address Id => Key.Address;

    public void Dispose() => Key.Dispose();
}
