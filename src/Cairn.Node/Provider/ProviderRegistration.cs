using Cairn.Node.Rpc;
using Cairn.Protocol.Identity;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Cairn.Node.Provider;

/// <summary>Registers the provider with its gateway once the server listens, then keeps it known with heartbeats.</summary>
public sealed class ProviderRegistration(ProviderState state, ProviderOptions options, IServer server, IHostApplicationLifetime lifetime,
    ILogger<ProviderRegistration> log) : BackgroundService
{
    private (double Prefill, double Decode) _speed;

    /// <summary>Completes when the first registration was accepted.</summary>
    public TaskCompletionSource Registered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource();
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
            await started.Task.WaitAsync(stoppingToken);
        string endpoint = server.Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _speed = state.Models[0].Benchmark();

        using var channel = GrpcChannel.ForAddress(options.Gateway);
        var registry = new Registry.RegistryClient(channel);
        var interval = TimeSpan.FromMilliseconds(500);
        bool registered = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!registered)
                {
                    var reply = await registry.RegisterAsync(Announcement(endpoint), deadline: DateTime.UtcNow.AddSeconds(5), cancellationToken: stoppingToken);
                    if (!reply.Accepted) throw new InvalidOperationException(reply.Error);
                    if (Address.TryParse(reply.GatewayId, out var gateway, out _)) state.Gateway = gateway;
                    interval = TimeSpan.FromMilliseconds(Math.Clamp(reply.HeartbeatIntervalMs, 100, 10_000));
                    registered = true;
                    ProviderLog.Registered(log, options.Gateway, state.Id.ToString(), string.Join(",", state.Models.Select(m => m.Name)), _speed.Decode);
                    Registered.TrySetResult();
                }
                else
                {
                    var reply = await registry.HeartbeatAsync(new HeartbeatRequest { ProviderId = state.Id.ToString(), ActiveRequests = state.Active },
                        deadline: DateTime.UtcNow.AddSeconds(5), cancellationToken: stoppingToken);
                    registered = reply.Known;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                registered = false;
                ProviderLog.RegisterFailed(log, options.Gateway, e.Message);
            }
            try
            {
                await Task.Delay(registered ? interval : TimeSpan.FromMilliseconds(500), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private RegisterRequest Announcement(string endpoint)
    {
        var r = new RegisterRequest
        {
            ProviderId = state.Id.ToString(),
            Endpoint = endpoint,
            DecodeTokS = state.Faults.ClaimDecodeTokS ?? _speed.Decode, // FAULT INJECTION (tests only) may claim a speed
            PrefillTokS = _speed.Prefill,
            MaxConcurrent = 16,
            PricePerToken = state.PricePerToken,
            Engine = ProviderState.EngineBuild,
            Announcement = Google.Protobuf.ByteString.CopyFrom(state.Announce(endpoint, DateTimeOffset.UtcNow)),
        };
        r.Models.AddRange(state.Models.Select(m => m.Info()));
        return r;
    }
}
