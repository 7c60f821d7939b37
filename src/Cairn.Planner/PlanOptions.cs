namespace Cairn.Planner;

/// <summary>How to plan. Defaults: minimum latency, the model's own context length, the DP, no side constraints.</summary>
public sealed record PlanOptions
{
    public PlanObjective Objective { get; init; } = PlanObjective.MinLatency;
    /// <summary>Positions of KV cache every stage reserves (and reads per token at worst); null: the model's context length.</summary>
    public int? ContextLength { get; init; }
    public PlanSolver Solver { get; init; } = PlanSolver.Dp;
    public PlanConstraints Constraints { get; init; } = PlanConstraints.None;
    /// <summary>Prompt length for the predicted prefill time (reported, not optimized).</summary>
    public int PromptTokens { get; init; } = 128;
    /// <summary>Wall-clock limit of one CP-SAT solve.</summary>
    public double IpTimeLimitSeconds { get; init; } = 60;

    public int ContextFor(ModelProfile model)
    {
        int c = ContextLength ?? model.ContextLength;
        if (c <= 0) throw new PlannerInputException($"context length {c} must be positive");
        return c;
    }
}
