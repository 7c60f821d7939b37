namespace Cairn.Node.Tests.TestSupport;

/// <summary>One gateway and two honest providers of the reference aidreams model, shared by the tests of <see cref="DevnetCollection"/>.</summary>
public sealed class DevnetFixture : IAsyncLifetime
{
    private Devnet? _net;

    public Devnet Net => _net ?? throw new InvalidOperationException("the devnet did not start");

    public async Task InitializeAsync() => _net = await Devnet.StartAsync(providers: 2);

    public async Task DisposeAsync()
    {
        if (_net != null) await _net.DisposeAsync();
    }
}

/// <summary>Tests that share <see cref="DevnetFixture"/>; xUnit runs them one at a time, so counts on /healthz are theirs alone.</summary>
[CollectionDefinition(Name)]
public sealed class DevnetCollection : ICollectionFixture<DevnetFixture>
{
    public const string Name = "devnet";
}
