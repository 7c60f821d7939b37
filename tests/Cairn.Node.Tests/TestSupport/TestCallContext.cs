using Grpc.Core;

namespace Cairn.Node.Tests.TestSupport;

/// <summary>A gRPC server call context for calling a service method in process (no network).</summary>
public sealed class TestCallContext(CancellationToken cancellation = default) : ServerCallContext
{
    protected override string MethodCore => "test";
    protected override string HostCore => "127.0.0.1";
    protected override string PeerCore => "ipv4:127.0.0.1:0";
    protected override DateTime DeadlineCore => DateTime.MaxValue;
    protected override Metadata RequestHeadersCore { get; } = [];
    protected override CancellationToken CancellationTokenCore => cancellation;
    protected override Metadata ResponseTrailersCore { get; } = [];
    protected override Status StatusCore { get; set; }
    protected override WriteOptions? WriteOptionsCore { get; set; }
    protected override AuthContext AuthContextCore { get; } = new(null, []);

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => throw new NotSupportedException();

    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
}

/// <summary>Collects what a server-streaming method writes.</summary>
public sealed class CollectingWriter<T> : IServerStreamWriter<T>
{
    public List<T> Written { get; } = [];
    public WriteOptions? WriteOptions { get; set; }

    public Task WriteAsync(T message)
    {
        lock (Written) Written.Add(message);
        return Task.CompletedTask;
    }
}
