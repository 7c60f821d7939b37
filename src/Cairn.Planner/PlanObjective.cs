namespace Cairn.Planner;

/// <summary>What the planner optimizes.</summary>
public enum PlanObjective
{
    /// <summary>The smallest per-token decode latency of one stream: the sum of stage times and hops.</summary>
    MinLatency,

    /// <summary>The most tokens per second over many pipelined streams: the smallest bottleneck (slowest stage or hop).</summary>
    MaxThroughput,
}
