using Cairn.Node.Rpc;
using Cairn.Planner;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;
using Google.Protobuf;
using Grpc.Core;
using SignedAssignment = Cairn.Protocol.Messages.StageAssignment;

namespace Cairn.Node.Gateway.Pipeline;

/// <summary>
/// The gateway's planner for flexible stages (<c>cairn node --layers auto</c>, docs/pipeline.md "Planned pipelines").
/// When only flexible stages serve a model, it asks each for its profile (the model's cost profile, its memory budget
/// and calibrated speed), calls <see cref="Planner.Planner.Plan"/>, tells every stage of the plan which layers to load
/// (<c>Stage.Load</c>) and routes requests through that chain. Stages report each step's time; the gateway refits every
/// device's decode speed from the median of its recent single-row steps, and the link latency from the rest of the
/// per-token time. Between requests (none in flight on the chain; new ones wait) it re-plans when the running plan,
/// costed with the measured speeds, is worse than a fresh plan by more than <see cref="GatewayOptions.ReplanThreshold"/>,
/// or when a device joined or was lost.
/// </summary>
public sealed partial class PlannedPipeline(ProviderDirectory directory, GatewayOptions options, GatewayState gateway, TimeProvider time,
    Dashboard.PipelinePlan view, ILogger<PlannedPipeline> log)
{
    private readonly Dictionary<string, ModelPlan> _models = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private long _lastIssuedMs;

    /// <summary>Whether <paramref name="model"/> is served by flexible stages only (then this class plans its pipeline).</summary>
    public static bool Applies(ProviderDirectory directory, string model)
    {
        var stages = directory.Healthy().SelectMany(p => p.Announcement.Models.Where(m => PipelineChain.Serves(m, model))).ToList();
        return stages.Count > 0 && stages.All(m => m.Flexible);
    }

    /// <summary>
    /// The chain for one request, after re-planning if needed; dispose the lease when the request is done (a pending
    /// re-plan waits for every lease of the model to end).
    /// </summary>
    public async Task<Lease> Acquire(string model, IReadOnlySet<string> exclude, CancellationToken cancel)
    {
        ModelPlan state;
        lock (_gate)
        {
            if (!_models.TryGetValue(model, out state!)) _models[model] = state = new ModelPlan(model);
        }
        await state.Gate.WaitAsync(cancel);
        try
        {
            if (await Decide(state, exclude, cancel) is { } next)
            {
                await state.Drain(cancel);
                await Apply(state, next.Plan, next.Devices, next.Reason, cancel);
            }
            return state.Enter();
        }
        finally
        {
            state.Gate.Release();
        }
    }

    /// <summary>
    /// Failover: a stage of <paramref name="lease"/>'s chain failed. Re-plans at once on the survivors (not waiting for other
    /// requests: their chain is broken too) and returns the new chain, or null if the survivors cannot hold the model.
    /// </summary>
    public async Task<IReadOnlyList<PipelineStage>?> Failover(Lease lease, IReadOnlySet<string> exclude, CancellationToken cancel)
    {
        var state = lease.State;
        // A re-plan may hold the gate while it waits for this very request to end: then give up (the request fails
        // upstream, its lease ends, and the re-plan goes on) rather than wait for each other.
        if (!await state.Gate.WaitAsync(FailoverWait, cancel)) return null;
        try
        {
            if (state.Chain.All(s => !exclude.Contains(s.Provider.Id) && directory.IsHealthy(s.Provider))) return state.Chain; // another request re-planned already
            var next = await Decide(state, exclude, cancel);
            if (next is null) return null;
            await Apply(state, next.Plan, next.Devices, next.Reason, cancel);
            return state.Chain;
        }
        catch (OpenAi.OpenAiError)
        {
            return null;
        }
        finally
        {
            state.Gate.Release();
        }
    }

    /// <summary>How long a failover waits for the plan's gate before it gives up on the request.</summary>
    private static readonly TimeSpan FailoverWait = TimeSpan.FromSeconds(5);

    private sealed record Decision(Plan Plan, IReadOnlyList<DeviceProfile> Devices, string Reason);

    /// <summary>A new plan and why, or null to keep the running one.</summary>
    private async Task<Decision?> Decide(ModelPlan state, IReadOnlySet<string> exclude, CancellationToken cancel)
    {
        var candidates = directory.Healthy()
            .Where(p => !exclude.Contains(p.Id) && (directory.Eligible?.Invoke(p.Id) ?? true))
            .Select(p => (Provider: p, Model: p.Announcement.Models.FirstOrDefault(m => PipelineChain.Serves(m, state.Name) && m.Flexible)))
            .Where(c => c.Model != null)
            .GroupBy(c => Convert.ToHexStringLower(c.Model!.Hash.Span))
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .FirstOrDefault()?.ToList();
        if (candidates is null) throw OpenAi.OpenAiError.Unavailable($"no healthy flexible stage serves '{state.Name}' right now");
        string? reason = null;
        var ids = candidates.Select(c => c.Provider.Id).Order(StringComparer.Ordinal).ToList();
        if (!ids.SequenceEqual(state.DeviceIds, StringComparer.Ordinal))
        {
            reason = state.Chain.Count == 0 ? "first plan" : $"devices changed ({state.DeviceIds.Count} -> {ids.Count})";
            await state.Refresh(candidates, cancel);
        }
        if (state.Profile is null || state.DeviceIds.Count == 0)
        {
            state.Forget();
            throw OpenAi.OpenAiError.Unavailable($"no flexible stage of '{state.Name}' answered with its profile");
        }
        var devices = state.Devices(options.PipelineLinkLatency);
        var planOptions = new PlanOptions { Objective = options.PipelineObjective };
        Plan fresh;
        try
        {
            fresh = options.PipelineSplit switch
            {
                PipelineSplit.Even => Baselines.EvenSplit(state.Profile, BaselineOrder(devices), planOptions),
                PipelineSplit.MemoryProportional => Baselines.MemoryProportionalSplit(state.Profile, BaselineOrder(devices), planOptions),
                _ => Planner.Planner.Plan(state.Profile, devices, planOptions),
            };
        }
        catch (PlannerInputException e)
        {
            state.Forget();
            throw OpenAi.OpenAiError.Unavailable($"no plan of '{state.Name}' fits the flexible stages available: {e.Message}");
        }
        if (reason != null) return new Decision(fresh, devices, reason);
        if (options.PipelineSplit != PipelineSplit.Planner || !state.Measured) return null;
        var running = PlanEvaluator.Evaluate(state.Profile, devices, state.Assignment, planOptions, "running");
        if (running.ObjectiveSeconds <= (1 + options.ReplanThreshold) * fresh.ObjectiveSeconds) return null;
        if (fresh.Assignment.SequenceEqual(state.Assignment)) return null;
        return new Decision(fresh, devices, string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"with measured speeds the running plan costs {running.ObjectiveSeconds * 1e3:F1} ms per token, a fresh plan {fresh.ObjectiveSeconds * 1e3:F1} ms (threshold {options.ReplanThreshold:P0})"));
    }

    /// <summary>The baselines' device order: largest memory first, then fastest (exo orders its ring by memory), then id.</summary>
    private static List<DeviceProfile> BaselineOrder(IReadOnlyList<DeviceProfile> devices) =>
        [.. devices.OrderByDescending(d => d.MemoryBytes).ThenByDescending(d => d.DecodeBytesPerSecond).ThenBy(d => d.Id, StringComparer.Ordinal)];

    /// <summary>Tells every stage of <paramref name="plan"/> its range (in parallel) and makes it the running chain.</summary>
    private async Task Apply(ModelPlan state, Plan plan, IReadOnlyList<DeviceProfile> devices, string reason, CancellationToken cancel)
    {
        if (!plan.Fits) throw OpenAi.OpenAiError.Unavailable($"the {plan.Method} of '{state.Name}' does not fit: {string.Join("; ", plan.Problems)}");
        string before = state.Describe();
        var stages = plan.Stages.Select(s => state.Stage(s.DeviceId, s.FirstLayer, s.EndLayer)).ToList();
        try
        {
            await Task.WhenAll(stages.Select(s => s.Client.LoadAsync(new StageLoadRequest { LayerStart = s.Start, LayerEnd = s.End, Assignment = Assign(s) },
                deadline: DateTime.UtcNow.AddSeconds(60), cancellationToken: cancel).ResponseAsync));
        }
        catch (RpcException e)
        {
            state.Forget();
            throw OpenAi.OpenAiError.Unavailable($"a stage refused its layers: {e.Status.Detail}");
        }
        state.Use(plan, stages);
        PipelineLog.Replanned(log, state.Name, before, state.Describe(), plan.PerTokenLatencySeconds * 1e3, reason);
        view.Use(state.Name, stages.Select(s => (s.Provider.Id, s.Start, s.End)));
        view.Predict(state.Name, plan, state.Replans, devices);
    }

    /// <summary>The signed order for <paramref name="stage"/> (docs/protocol.md, <c>cairn.stage-assignment</c>).</summary>
    private ByteString Assign(PipelineStage stage) => ByteString.CopyFrom(new SignedAssignment
    {
        ModelHash = new Hash256(stage.Model.Hash.Span),
        FirstLayer = stage.Start,
        EndLayer = stage.End,
        Stage = Address.Parse(stage.Provider.Id),
        IssuedMs = NextIssuedMs(),
        Gateway = gateway.Id,
    }.Sign(gateway.Key).Encode());

    /// <summary>The gateway's clock in ms, or one more than the last value issued when the clock has not moved past it: strictly increasing.</summary>
    private ulong NextIssuedMs()
    {
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        while (true)
        {
            long last = Interlocked.Read(ref _lastIssuedMs);
            long next = Math.Max(now, last + 1);
            if (Interlocked.CompareExchange(ref _lastIssuedMs, next, last) == last) return (ulong)next;
        }
    }

    /// <summary>A stage reported a step of <paramref name="rows"/> rows that the emulated device took <paramref name="step"/> for.</summary>
    public void ObserveStep(Lease lease, PipelineStage stage, int rows, TimeSpan step)
    {
        if (rows == 1) lease.State.ObserveStep(stage, step.TotalSeconds);
    }

    /// <summary>One decode step through the whole chain took <paramref name="wall"/> at the gateway, of which <paramref name="stages"/> inside the stages.</summary>
    public void ObserveToken(Lease lease, TimeSpan wall, TimeSpan stages)
    {
        lease.State.ObserveToken(wall.TotalSeconds, stages.TotalSeconds);
        view.Measure(lease.State.Name, lease.State.MeasuredTokenSeconds, lease.State.MeasuredLinkSeconds, lease.State.MeasuredSpeeds);
    }

    /// <summary>One request's hold on its model's plan.</summary>
    public sealed class Lease(ModelPlan state, IReadOnlyList<PipelineStage> chain) : IDisposable
    {
        private int _disposed;
        internal ModelPlan State { get; } = state;
        public IReadOnlyList<PipelineStage> Chain { get; } = chain;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) State.Leave();
        }
    }
}
