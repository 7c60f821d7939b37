namespace Cairn.Node.Gateway.Dashboard;

/// <summary>
/// The current pipeline plan as <c>GET /v1/pipeline</c> shows it: which device holds which layers of which model and
/// its measured step time. Empty until the gateway serves a request through a pipeline of stages
/// (<see cref="Use"/> when a chain is chosen, <see cref="Observe"/> after each stage's step); meanwhile every provider
/// holds the whole model, which the overview says.
/// </summary>
public sealed class PipelinePlan
{
    private readonly Lock _gate = new();
    private PipelineView _current = new([]);

    public PipelineView Current => Volatile.Read(ref _current);

    public void Set(PipelineView plan) => Volatile.Write(ref _current, plan);

    /// <summary>A planned pipeline (flexible stages): the method, its predictions, re-plans so far and the devices as planned.</summary>
    public void Predict(string model, Cairn.Planner.Plan plan, int replans, IEnumerable<Cairn.Planner.DeviceProfile> devices)
    {
        lock (_gate) Set(Current with
        {
            Method = plan.Method,
            Objective = plan.Objective == Cairn.Planner.PlanObjective.MinLatency ? "latency" : "throughput",
            PredictedSecondsPerToken = plan.PerTokenLatencySeconds,
            PredictedTokensPerSecond = plan.ThroughputTokensPerSecond,
            MeasuredSecondsPerToken = null,
            MeasuredLinkSeconds = null,
            Replans = replans - 1,
            Devices = [.. devices.Select(d => new PipelineDeviceView(d.Id, d.MemoryBytes, d.DecodeBytesPerSecond, d.LinkLatencySeconds))],
        });
    }

    /// <summary>The measured per-token latency of the planned pipeline (median of recent decode steps at the gateway).</summary>
    public void Measure(string model, double? seconds, double? link, IReadOnlyDictionary<string, double> speeds)
    {
        lock (_gate) Set(Current with
        {
            MeasuredSecondsPerToken = seconds,
            MeasuredLinkSeconds = link,
            Devices = [.. Current.Devices.Select(d => d with { MeasuredDecodeBytesPerSecond = speeds.TryGetValue(d.Device, out double s) ? s : d.MeasuredDecodeBytesPerSecond })],
        });
    }

    /// <summary>The chain now serving <paramref name="model"/>: (device, first layer, end layer exclusive) in order; measured step times are kept for stages that stay.</summary>
    public void Use(string model, IEnumerable<(string Device, int Start, int End)> chain)
    {
        lock (_gate)
        {
            var old = Current.Stages;
            Set(Current with
            {
                Stages = [.. chain.Select(s => new PipelineStageView(model, s.Device, s.Start, s.End - 1,
                    old.FirstOrDefault(o => o.Model == model && o.Device == s.Device && o.FirstLayer == s.Start && o.LastLayer == s.End - 1)?.StepSeconds))],
            });
        }
    }

    /// <summary>A stage reported a step of <paramref name="seconds"/>: its shown step time moves toward it (exponential average, weight 0.2).</summary>
    public void Observe(string model, string device, int start, int end, double seconds)
    {
        lock (_gate)
        {
            var stages = Current.Stages;
            int i = Array.FindIndex(stages, s => s.Model == model && s.Device == device && s.FirstLayer == start && s.LastLayer == end - 1);
            if (i < 0) return;
            var updated = (PipelineStageView[])stages.Clone();
            updated[i] = updated[i] with { StepSeconds = updated[i].StepSeconds is { } previous ? previous + 0.2 * (seconds - previous) : seconds };
            Set(Current with { Stages = updated });
        }
    }
}

/// <summary>
/// A plan: its stages in order; for a planned pipeline (flexible stages) also the method, the predicted and measured
/// per-token latency, the re-plans since the first plan and the devices with the speeds the plan used.
/// </summary>
public sealed record PipelineView(PipelineStageView[] Stages)
{
    public string? Method { get; init; }
    public string? Objective { get; init; }
    public double? PredictedSecondsPerToken { get; init; }
    /// <summary>The plan's throughput over many pipelined streams: 1 / its slowest stage or hop.</summary>
    public double? PredictedTokensPerSecond { get; init; }
    public double? MeasuredSecondsPerToken { get; init; }
    /// <summary>The measured link latency per hop: per-token time at the gateway minus the stages' step times, over the stages.</summary>
    public double? MeasuredLinkSeconds { get; init; }
    public int Replans { get; init; }
    public PipelineDeviceView[] Devices { get; init; } = [];
}

/// <summary>
/// A device as the planner saw it: memory budget, decode speed (measured or announced) and link latency; and its decode
/// speed as measured since (median of its recent single-row steps), null until measured.
/// </summary>
public sealed record PipelineDeviceView(string Device, long MemoryBytes, double DecodeBytesPerSecond, double LinkLatencySeconds)
{
    public double? MeasuredDecodeBytesPerSecond { get; init; }
}

/// <summary>One stage: <c>Device</c> (a provider id or a device name) runs layers <c>FirstLayer</c>..<c>LastLayer</c> (inclusive) of <c>Model</c>; <c>StepSeconds</c> its measured time per step, null if not measured.</summary>
public sealed record PipelineStageView(string Model, string Device, int FirstLayer, int LastLayer, double? StepSeconds);
