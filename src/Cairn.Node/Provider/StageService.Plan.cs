using System.Net;
using Cairn.Engine.Models;
using Cairn.Node.Rpc;
using Cairn.Protocol.Messages;
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

    /// <summary>How far a stage assignment's <c>issued_ms</c> may be from this stage's clock (either way).</summary>
    public static readonly TimeSpan MaxAssignmentSkew = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Serves layers [start, end) from now on, loaded from the local file — only on its gateway's signed order
    /// (<see cref="StageAssignment"/> in <c>assignment</c>, addressed to this stage, newer than the last one obeyed, issued
    /// within <see cref="MaxAssignmentSkew"/>). Refused with nothing changed otherwise, when this stage does not know its
    /// gateway yet (not registered), when it is not flexible, when the range exceeds the memory budget, or while sessions
    /// are open (the gateway re-plans between requests). Loading the range already held is a no-op (the order still counts
    /// as obeyed: it cannot be replayed).
    /// </summary>
    public override async Task<StageLoadReply> Load(StageLoadRequest request, ServerCallContext context)
    {
        var host = Host();
        if (!host.Flexible) throw new RpcException(new Status(StatusCode.FailedPrecondition, "this stage serves a fixed range (--layers A:B); start it with --layers auto to accept assignments"));
        var (assignment, gateway) = Assignment(request);
        if (host.Check(request.LayerStart, request.LayerEnd) is { } refused) throw new RpcException(new Status(StatusCode.ResourceExhausted, refused));
        await sessions.LoadGate.WaitAsync(context.CancellationToken);
        try
        {
            // Checked again under the gate, with the last order obeyed: of two copies of one order only the first passes.
            var accepted = assignment.Accept(gateway, state.Id, host.LastAssignmentMs, NowMs(), (ulong)MaxAssignmentSkew.TotalMilliseconds);
            if (!accepted.IsValid) throw new RpcException(new Status(StatusCode.PermissionDenied, $"stage assignment refused: {accepted}"));
            var old = state.Models[0];
            if (old.Model.FirstLayer != request.LayerStart || old.Model.EndLayer != request.LayerEnd)
            {
                if (sessions.Count > 0) throw new RpcException(new Status(StatusCode.FailedPrecondition, $"{sessions.Count} sessions are open; a stage changes its range between requests"));
                var next = host.Load(request.LayerStart, request.LayerEnd);
                state.Replace(old, next);
                old.Dispose();
            }
            host.LastAssignmentMs = assignment.IssuedMs;
            return new StageLoadReply { LayerStart = request.LayerStart, LayerEnd = request.LayerEnd, MemoryBytes = host.MemoryBytes(request.LayerStart, request.LayerEnd) };
        }
        finally
        {
            sessions.LoadGate.Release();
        }
    }

    /// <summary>
    /// The request's signed assignment, checked against everything but the last order obeyed (that is checked under the
    /// load gate): present, well formed, this stage knows its gateway, signed by it, addressed here, for this model and
    /// for exactly the range the request names, fresh.
    /// </summary>
    private (StageAssignment Assignment, Cairn.Protocol.Identity.Address Gateway) Assignment(StageLoadRequest request)
    {
        if (request.Assignment.IsEmpty) throw new RpcException(new Status(StatusCode.Unauthenticated, "Load needs the gateway's signed stage assignment (StageLoadRequest.assignment)"));
        if (!StageAssignment.TryDecode(request.Assignment.Span, out var decoded, out var malformed)) throw Invalid($"malformed stage assignment: {malformed}");
        var assignment = decoded!;
        // A stage learns its gateway at registration; until then it obeys nobody (anyone could otherwise claim to be it).
        if (state.Gateway is not { } gateway) throw new RpcException(new Status(StatusCode.FailedPrecondition, "this stage is not registered with its gateway yet and obeys no assignment until it is"));
        var accepted = assignment.Accept(gateway, state.Id, 0, NowMs(), (ulong)MaxAssignmentSkew.TotalMilliseconds);
        if (!accepted.IsValid) throw new RpcException(new Status(StatusCode.PermissionDenied, $"stage assignment refused: {accepted}"));
        if (assignment.ModelHash != new Cairn.Protocol.Crypto.Hash256(state.Models[0].Hash))
            throw Invalid($"the stage assignment is for model {assignment.ModelHash}, not the model this stage serves");
        if (assignment.FirstLayer != request.LayerStart || assignment.EndLayer != request.LayerEnd)
            throw Invalid($"layers {request.LayerStart}:{request.LayerEnd} are not the signed assignment's {assignment.FirstLayer}:{assignment.EndLayer}");
        return (assignment, gateway);
    }

    private ulong NowMs() => (ulong)time.GetUtcNow().ToUnixTimeMilliseconds();

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
