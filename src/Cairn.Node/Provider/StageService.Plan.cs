using System.Net;
using Cairn.Engine.Models;
using Cairn.Node.Rpc;
using Grpc.Core;

namespace Cairn.Node.Provider;

/// <summary>
/// The planned-pipeline side of a stage (docs/pipeline.md, "Planned pipelines"): the emulated device's padding of each
/// step, its profile for the gateway's planner, loading another layer range from the local file (<c>--layers auto</c>),
/// and the loopback-only control of the slowdown.
/// </summary>
public sealed partial class StageService
{
    /// <summary>
    /// An emulated device (slowdown above 1) runs one step at a time, like the single device it stands for: the step of
    /// another session waits, and the reported step time counts from when the device took it. Null (no waiting) for a
    /// real device (slowdown 1), which runs the steps of several sessions at once on its threads.
    /// </summary>
    private async Task<IDisposable?> EnterDevice(CancellationToken cancel)
    {
        if (sessions.Host is not { Slowdown: > 1 } host) return null;
        await host.Device.WaitAsync(cancel);
        return new Releaser(host.Device);
    }

    private sealed class Releaser(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "usleep", SetLastError = true)]
    private static extern int USleep(uint microseconds);

    /// <summary>Pads a step to what the emulated device takes (<see cref="StageHost.Target"/>); nothing at slowdown 1.</summary>
    private async Task Emulate(Model model, int rows, TimeSpan compute, CancellationToken cancel)
    {
        if (sessions.Host is not { Slowdown: > 1 } host) return;
        var remaining = host.Target(model.FirstLayer, model.EndLayer, rows) - compute;
        if (remaining <= TimeSpan.Zero) return;
        // Task.Delay counts whole milliseconds and its timer wakes late on a busy machine; where the C library's usleep is
        // at hand, this thread sleeps to the microsecond instead (one thread per node at a time: the device gate is held).
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()))
        {
            await Task.Delay(remaining, cancel);
            return;
        }
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        for (var left = remaining; left > TimeSpan.Zero; left = remaining - System.Diagnostics.Stopwatch.GetElapsedTime(start))
        {
            cancel.ThrowIfCancellationRequested();
            _ = USleep((uint)Math.Clamp(left.TotalMicroseconds, 1, 100_000));
        }
    }

    public override Task<StageProfileReply> Profile(StageProfileRequest request, ServerCallContext context)
    {
        var host = Host();
        var model = state.Models[0].Model;
        var p = host.Profile;
        var profile = new StageModelProfile
        {
            Name = p.Name,
            Dim = p.Dim,
            ContextLength = p.ContextLength,
            FirstStageBytes = p.FirstStageBytes,
            LastStageBytes = p.LastStageBytes,
            SharedFirstLastBytes = p.SharedFirstLastBytes,
            EveryStageBytes = p.EveryStageBytes,
            FirstStageReadBytesPerToken = p.FirstStageReadBytesPerToken,
            LastStageReadBytesPerToken = p.LastStageReadBytesPerToken,
            LastStageFlopsPerToken = p.LastStageFlopsPerToken,
        };
        profile.Layers.AddRange(p.Layers.Select(l => new StageLayerProfile
        {
            WeightBytes = l.WeightBytes,
            FlopsPerToken = l.FlopsPerToken,
            AttentionFlopsPerPosition = l.AttentionFlopsPerPosition,
            KvBytesPerPosition = l.KvBytesPerPosition,
        }));
        double slowdown = host.Slowdown;
        return Task.FromResult(new StageProfileReply
        {
            LayerStart = model.FirstLayer,
            LayerEnd = model.EndLayer,
            MemoryBudget = host.MemoryBudget ?? 0,
            DecodeBytesPerSecond = host.BytesPerSecond / slowdown,
            PrefillFlopsPerSecond = host.FlopsPerSecond / slowdown,
            Slowdown = slowdown,
            Model = profile,
        });
    }

    /// <summary>
    /// Serves layers [start, end) from now on, loaded from the local file: refused (nothing changed) when this stage is
    /// not flexible, when the range exceeds the memory budget, or while sessions are open (the gateway re-plans between
    /// requests). Loading the range already held is a no-op.
    /// </summary>
    public override async Task<StageLoadReply> Load(StageLoadRequest request, ServerCallContext context)
    {
        var host = Host();
        if (!host.Flexible) throw new RpcException(new Status(StatusCode.FailedPrecondition, "this stage serves a fixed range (--layers A:B); start it with --layers auto to accept assignments"));
        if (host.Check(request.LayerStart, request.LayerEnd) is { } refused) throw new RpcException(new Status(StatusCode.ResourceExhausted, refused));
        await sessions.LoadGate.WaitAsync(context.CancellationToken);
        try
        {
            var old = state.Models[0];
            if (old.Model.FirstLayer != request.LayerStart || old.Model.EndLayer != request.LayerEnd)
            {
                if (sessions.Count > 0) throw new RpcException(new Status(StatusCode.FailedPrecondition, $"{sessions.Count} sessions are open; a stage changes its range between requests"));
                var next = host.Load(request.LayerStart, request.LayerEnd);
                state.Replace(old, next);
                old.Dispose();
            }
            return new StageLoadReply { LayerStart = request.LayerStart, LayerEnd = request.LayerEnd, MemoryBytes = host.MemoryBytes(request.LayerStart, request.LayerEnd) };
        }
        finally
        {
            sessions.LoadGate.Release();
        }
    }

    /// <summary>Changes the emulated slowdown at run time (benchmarks and tests of re-planning); loopback callers only.</summary>
    public override Task<StageSlowdownReply> SetSlowdown(StageSlowdownRequest request, ServerCallContext context)
    {
        if (!IsLoopback(context.Peer)) throw new RpcException(new Status(StatusCode.PermissionDenied, $"the slowdown is set from this machine only (caller {context.Peer})"));
        if (!(request.Slowdown >= 1 && request.Slowdown <= 1000)) throw Invalid($"slowdown {request.Slowdown} is out of range (1 to 1000)");
        var host = Host();
        host.Slowdown = request.Slowdown;
        return Task.FromResult(new StageSlowdownReply { Slowdown = host.Slowdown });
    }

    /// <summary>Whether a gRPC peer (<c>ipv4:127.0.0.1:5000</c>, <c>ipv6:[::1]:5000</c>) is this machine.</summary>
    internal static bool IsLoopback(string peer)
    {
        int colon = peer.IndexOf(':', StringComparison.Ordinal), port = peer.LastIndexOf(':');
        if (colon < 0 || port <= colon) return false;
        string host = peer[(colon + 1)..port].Trim('[', ']');
        return IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address);
    }

    private StageHost Host() => sessions.Host ?? throw new RpcException(new Status(StatusCode.FailedPrecondition, "this provider serves whole models, not a pipeline stage"));
}
