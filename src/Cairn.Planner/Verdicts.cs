using System.Globalization;

namespace Cairn.Planner;

/// <summary>The sentences that say why a device is in a plan or not.</summary>
internal static class Verdicts
{
    public static string Used(PlanStage s) => string.Create(CultureInfo.InvariantCulture,
        $"layers {s.FirstLayer}..{s.EndLayer - 1} ({s.LayerCount} of them, {Mib(s.MemoryBytes)}): decode {Ms(s.DecodeSeconds)} + hop {Ms(s.HopSeconds)} per token");

    /// <param name="withDevice">The best objective of a complete plan that includes the device (+∞: none fits).</param>
    /// <param name="tieTolerance">Relative difference under which the two count as equal (the IP's integer time units are coarser than the DP's doubles).</param>
    public static string LeftOut(CostModel cost, int d, double withDevice, double optimum, PlanObjective objective, double tieTolerance = DpPlanner.TieTolerance)
    {
        if (double.IsPositiveInfinity(withDevice))
        {
            long smallest = SmallestStage(cost);
            return cost.Devices[d].MemoryBytes < smallest
                ? string.Create(CultureInfo.InvariantCulture, $"does not fit: its {Mib(cost.Devices[d].MemoryBytes)} is less than the smallest stage ({Mib(smallest)})")
                : "does not fit: no plan that includes it fits every device's memory";
        }
        if (withDevice <= optimum * (1 + tieTolerance))
            return "not needed: plans with it are no better, and the planner uses the fewest devices";
        return objective == PlanObjective.MinLatency
            ? string.Create(CultureInfo.InvariantCulture, $"would slow the pipeline by {Ms(withDevice - optimum)} per token (best plan with it: {Ms(withDevice)})")
            : string.Create(CultureInfo.InvariantCulture,
                $"would slow the pipeline: best throughput with it {1 / withDevice:0.##} tok/s, {1 / optimum - 1 / withDevice:0.##} tok/s less (bottleneck {Ms(withDevice)} instead of {Ms(optimum)})");
    }

    /// <summary>The least memory any one-layer stage needs (a middle layer: no first- or last-stage tensors when there are three or more).</summary>
    private static long SmallestStage(CostModel cost)
    {
        long min = long.MaxValue;
        for (int l = 0; l < cost.Layers; l++) min = Math.Min(min, cost.MemoryBytes(l, l + 1));
        return min;
    }

    public static string Ms(double seconds) => string.Create(CultureInfo.InvariantCulture, $"{seconds * 1e3:0.###} ms");

    public static string Mib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.##} MiB");
}
