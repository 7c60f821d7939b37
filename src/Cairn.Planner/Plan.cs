namespace Cairn.Planner;

/// <summary>
/// A pipeline: <see cref="Stages"/> in pipeline order covering every layer once, with the cost model's
/// predictions. Per-token latency = Σ (stage decode + hop); throughput = 1 / the largest stage or hop time.
/// <see cref="Problems"/> lists what makes it unrunnable (a stage over its device's memory); a planner's plan
/// has none, a baseline may.
/// </summary>
public sealed record Plan
{
    public required string Method { get; init; }
    public required PlanObjective Objective { get; init; }
    public required int ContextLength { get; init; }
    public required IReadOnlyList<PlanStage> Stages { get; init; }
    public required double PerTokenLatencySeconds { get; init; }
    public required double BottleneckSeconds { get; init; }
    /// <summary>Predicted time to prefill <see cref="PromptTokens"/> tokens through the pipeline (stages one after another).</summary>
    public required double PrefillSeconds { get; init; }
    public required int PromptTokens { get; init; }
    public IReadOnlyList<string> Problems { get; init; } = [];
    public IReadOnlyList<DeviceVerdict> Devices { get; init; } = [];

    public double ThroughputTokensPerSecond => 1 / BottleneckSeconds;
    public bool Fits => Problems.Count == 0;
    public int DeviceCount => Stages.Count;

    /// <summary>The value the objective minimizes: the latency, or the bottleneck (1 / throughput).</summary>
    public double ObjectiveSeconds => Objective == PlanObjective.MinLatency ? PerTokenLatencySeconds : BottleneckSeconds;

    public IReadOnlyList<StageAssignment> Assignment => [.. Stages.Select(s => new StageAssignment(s.DeviceId, s.FirstLayer, s.EndLayer))];
}
