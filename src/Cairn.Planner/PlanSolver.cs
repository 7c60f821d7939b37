namespace Cairn.Planner;

/// <summary>Which solver makes the plan.</summary>
public enum PlanSolver
{
    /// <summary>Exact dynamic programming over contiguous assignments (<see cref="DpPlanner"/>).</summary>
    Dp,

    /// <summary>The same problem as an integer program solved by OR-Tools CP-SAT (<see cref="IpPlanner"/>); also takes <see cref="PlanConstraints"/>.</summary>
    Ip,
}
