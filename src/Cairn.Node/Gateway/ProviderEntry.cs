using Cairn.Node.Rpc;
using Grpc.Net.Client;

namespace Cairn.Node.Gateway;

/// <summary>What the gateway knows of one provider: its announcement, its health and its live load.</summary>
public sealed class ProviderEntry(RegisterRequest announcement, GrpcChannel channel, DateTimeOffset now)
{
    private int _active;

    public string Id { get; } = announcement.ProviderId;
    public RegisterRequest Announcement { get; private set; } = announcement;
    public GrpcChannel Channel { get; private set; } = channel;
    public Rpc.Provider.ProviderClient Client { get; private set; } = new(channel);
    public DateTimeOffset LastSeen { get; set; } = now;
    /// <summary>Set when a call to the provider failed; cleared by its next heartbeat.</summary>
    public DateTimeOffset? FailedAt { get; set; }
    /// <summary>Why an answer of this provider was refused (its receipt did not hold); once set, it is never routed to again.</summary>
    public string? Refused { get; set; }
    public int Active => Volatile.Read(ref _active);
    public long Served;
    public long Failures;

    /// <summary>Whether the provider serves the whole model (not only a pipeline stage of it, see Pipeline/PipelineChain).</summary>
    public bool Serves(string model) => Announcement.Models.Any(m => m.LayerEnd == 0 && (m.Name == model || Convert.ToHexStringLower(m.Hash.Span) == model));

    public void Replace(RegisterRequest announcement, GrpcChannel channel)
    {
        Announcement = announcement;
        Channel = channel;
        Client = new Rpc.Provider.ProviderClient(channel);
    }

    public void Begin() => Interlocked.Increment(ref _active);
    public void End() => Interlocked.Decrement(ref _active);
}
