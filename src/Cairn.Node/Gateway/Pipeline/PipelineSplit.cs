namespace Cairn.Node.Gateway.Pipeline;

/// <summary>How the gateway splits a model over flexible stages (<c>cairn gateway --pipeline-split</c>).</summary>
public enum PipelineSplit
{
    /// <summary>The planner's plan (<see cref="Planner.Planner.Plan"/>), re-planned from measured step times.</summary>
    Planner,
    /// <summary>Every device, equal layer counts (<see cref="Planner.Baselines.EvenSplit"/>); for comparisons.</summary>
    Even,
    /// <summary>exo's memory-proportional split (<see cref="Planner.Baselines.MemoryProportionalSplit"/>); for comparisons.</summary>
    MemoryProportional,
}
