namespace Cairn.Planner.Tests.TestSupport;

/// <summary>Every contiguous plan over every ordered subset of devices, costed by <see cref="PlanEvaluator"/>: the oracle for small instances.</summary>
public static class BruteForce
{
    public static IEnumerable<Plan> AllPlans(ModelProfile model, IReadOnlyList<DeviceProfile> devices, PlanOptions options)
    {
        foreach (var order in Orders(devices.Count, new List<int>(), new bool[devices.Count]))
        {
            if (order.Length > model.LayerCount) continue;
            foreach (var cuts in Compositions(model.LayerCount, order.Length))
            {
                var stages = new StageAssignment[order.Length];
                int start = 0;
                for (int i = 0; i < order.Length; i++)
                {
                    stages[i] = new StageAssignment(devices[order[i]].Id, start, start + cuts[i]);
                    start += cuts[i];
                }
                yield return PlanEvaluator.Evaluate(model, devices, stages, options, "brute force");
            }
        }
    }

    /// <summary>The optimum: best objective; among those (relative 1e-9) the fewest devices; for throughput then the least latency.</summary>
    public static Plan? Best(ModelProfile model, IReadOnlyList<DeviceProfile> devices, PlanOptions options)
    {
        var feasible = AllPlans(model, devices, options).Where(p => p.Fits).ToList();
        if (feasible.Count == 0) return null;
        double optimum = feasible.Min(p => p.ObjectiveSeconds);
        return feasible.Where(p => p.ObjectiveSeconds <= optimum * (1 + 1e-9))
            .OrderBy(p => p.DeviceCount).ThenBy(p => p.PerTokenLatencySeconds).First();
    }

    private static IEnumerable<int[]> Orders(int n, List<int> prefix, bool[] taken)
    {
        if (prefix.Count > 0) yield return [.. prefix];
        for (int d = 0; d < n; d++)
        {
            if (taken[d]) continue;
            taken[d] = true;
            prefix.Add(d);
            foreach (var o in Orders(n, prefix, taken)) yield return o;
            prefix.RemoveAt(prefix.Count - 1);
            taken[d] = false;
        }
    }

    private static IEnumerable<int[]> Compositions(int total, int parts)
    {
        if (parts == 1)
        {
            yield return [total];
            yield break;
        }
        for (int first = 1; first <= total - parts + 1; first++)
        {
            foreach (var rest in Compositions(total - first, parts - 1)) yield return [first, .. rest];
        }
    }
}
