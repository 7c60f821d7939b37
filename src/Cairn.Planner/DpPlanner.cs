using System.Numerics;

namespace Cairn.Planner;

/// <summary>
/// Exact dynamic programming over contiguous assignments to an ordered subset of the devices.
/// <para>
/// Every cost in <see cref="CostModel"/> depends only on a stage's device and its layer range (the hop leaves from
/// the sender's own uplink, and a stage knows it is last when its range ends at L), never on its neighbours. So
/// the state is (S, k): the set S of devices already used, in any order, for layers [0, k). A transition appends
/// a device e ∉ S for layers [k, k'). The value is the summed latency (MinLatency) or the largest stage/hop time
/// (MaxThroughput; both compose by sum or max, so the principle of optimality holds). |S| is the device count, so
/// "fewest devices among optimal plans" is read off the final states S with k = L. For MaxThroughput a second
/// pass keeps only stages that meet the optimal bottleneck and takes the fewest devices, then the least latency.
/// </para>
/// <para>
/// Complexity: O(2^N · L) states and O(2^N · N · L²) transitions, memory ranges pruning most of them; hence at
/// most <see cref="MaxDevices"/> devices (4096 subsets). The integer program has no such limit.
/// </para>
/// </summary>
public static partial class DpPlanner
{
    public const int MaxDevices = 12;

    /// <summary>Relative tolerance under which two objective values count as a tie (then fewer devices win).</summary>
    public const double TieTolerance = 1e-9;

    public static Plan Plan(ModelProfile model, IReadOnlyList<DeviceProfile> devices, PlanOptions options)
    {
        if (!options.Constraints.IsEmpty)
            throw new PlannerInputException("the DP cannot express side constraints (last-stage device, non-adjacent devices); use the integer program (--solver ip)");
        if (devices.Count > MaxDevices)
            throw new PlannerInputException($"the DP handles at most {MaxDevices} devices ({devices.Count} given); use the integer program (--solver ip)");
        var cost = new CostModel(model, devices, options.ContextFor(model));
        var primary = Table.Solve(cost, options.Objective, double.PositiveInfinity);
        int best = primary.Best(cost.Layers, out double optimum);
        if (best < 0) throw new PlannerInputException(Infeasible(cost));
        var chosen = primary;
        if (options.Objective == PlanObjective.MaxThroughput)
        {
            chosen = Table.Solve(cost, PlanObjective.MinLatency, optimum * (1 + TieTolerance));
            best = chosen.Fewest(cost.Layers);
        }
        var plan = PlanEvaluator.Evaluate(cost, chosen.Reconstruct(best, cost), options, "dp");
        return plan with { Devices = Explain(cost, plan, primary, optimum, options.Objective) };
    }

    internal static string Infeasible(CostModel cost)
    {
        long total = cost.MemoryBytes(0, cost.Layers) - cost.Model.EveryStageBytes, budget = cost.Devices.Sum(d => d.MemoryBytes);
        return $"no plan fits: the model needs {total:N0} bytes (weights and KV cache for {cost.Context} positions) plus per-stage tensors, "
            + $"the devices have {budget:N0} in all" + (total <= budget ? " (no contiguous split fits each device's budget)" : "");
    }

    private static DeviceVerdict[] Explain(CostModel cost, Plan plan, Table table, double optimum, PlanObjective objective)
    {
        var verdicts = new DeviceVerdict[cost.Devices.Count];
        for (int d = 0; d < cost.Devices.Count; d++)
        {
            string id = cost.Devices[d].Id;
            var stage = plan.Stages.FirstOrDefault(s => s.DeviceId == id);
            verdicts[d] = stage is not null
                ? new DeviceVerdict(id, true, Verdicts.Used(stage))
                : new DeviceVerdict(id, false, Verdicts.LeftOut(cost, d, table.BestWith(d, cost.Layers), optimum, objective));
        }
        return verdicts;
    }

    /// <summary>The DP table of one pass: value, predecessor layer and added device for every (S, k).</summary>
    private sealed class Table
    {
        private readonly double[] _value;
        private readonly short[] _fromLayer;
        private readonly sbyte[] _device;
        private readonly int _width;

        private Table(int subsets, int width)
        {
            _width = width;
            _value = new double[subsets * width];
            Array.Fill(_value, double.PositiveInfinity);
            _fromLayer = new short[subsets * width];
            _device = new sbyte[subsets * width];
        }

        /// <summary>Fills the table; stages whose decode or hop time exceeds <paramref name="stageCap"/> are not allowed.</summary>
        public static Table Solve(CostModel cost, PlanObjective objective, double stageCap)
        {
            int n = cost.Devices.Count, layers = cost.Layers, subsets = 1 << n;
            var t = new Table(subsets, layers + 1);
            t._value[0] = 0;
            bool sum = objective == PlanObjective.MinLatency;
            for (int s = 0; s < subsets; s++)
            {
                for (int k = 0; k < layers; k++)
                {
                    double v = t._value[s * t._width + k];
                    if (double.IsPositiveInfinity(v)) continue;
                    for (int e = 0; e < n; e++)
                    {
                        if ((s & (1 << e)) != 0) continue;
                        int next = (s | (1 << e)) * t._width;
                        for (int end = k + 1; end <= layers; end++)
                        {
                            if (!cost.Fits(e, k, end))
                            {
                                if (end < layers) break; // memory grows with the range until the head is added at L
                                continue;
                            }
                            double decode = cost.DecodeSeconds(e, k, end), hop = cost.HopSeconds(e, k, end);
                            if (decode > stageCap || hop > stageCap) continue;
                            double candidate = sum ? v + decode + hop : Math.Max(v, Math.Max(decode, hop));
                            if (candidate < t._value[next + end])
                            {
                                t._value[next + end] = candidate;
                                t._fromLayer[next + end] = (short)k;
                                t._device[next + end] = (sbyte)e;
                            }
                        }
                    }
                }
            }
            return t;
        }

        /// <summary>The final subset with the best value, fewest devices on a tie; -1 when nothing fits.</summary>
        public int Best(int layers, out double value)
        {
            int best = -1;
            value = double.PositiveInfinity;
            int subsets = _value.Length / _width;
            for (int s = 1; s < subsets; s++)
            {
                double v = _value[s * _width + layers];
                if (double.IsPositiveInfinity(v)) continue;
                bool better = best < 0 || v < value * (1 - TieTolerance)
                    || (v <= value * (1 + TieTolerance) && BitOperations.PopCount((uint)s) < BitOperations.PopCount((uint)best));
                if (better)
                {
                    best = s;
                    value = v;
                }
            }
            if (best >= 0) value = _value[best * _width + layers];
            return best;
        }

        /// <summary>The final subset with the fewest devices, the best value among those; -1 when nothing fits.</summary>
        public int Fewest(int layers)
        {
            int best = -1;
            int subsets = _value.Length / _width;
            for (int s = 1; s < subsets; s++)
            {
                double v = _value[s * _width + layers];
                if (double.IsPositiveInfinity(v)) continue;
                int count = BitOperations.PopCount((uint)s), bestCount = best < 0 ? int.MaxValue : BitOperations.PopCount((uint)best);
                if (count < bestCount || (count == bestCount && v < _value[best * _width + layers])) best = s;
            }
            return best;
        }

        /// <summary>The best value of a complete plan that uses device d; +∞ when none fits.</summary>
        public double BestWith(int d, int layers)
        {
            double best = double.PositiveInfinity;
            int subsets = _value.Length / _width;
            for (int s = 1; s < subsets; s++)
            {
                if ((s & (1 << d)) != 0) best = Math.Min(best, _value[s * _width + layers]);
            }
            return best;
        }

        public StageAssignment[] Reconstruct(int subset, CostModel cost)
        {
            var stages = new List<StageAssignment>();
            int s = subset, k = cost.Layers;
            while (k > 0)
            {
                int i = s * _width + k, e = _device[i], from = _fromLayer[i];
                stages.Add(new StageAssignment(cost.Devices[e].Id, from, k));
                s &= ~(1 << e);
                k = from;
            }
            stages.Reverse();
            return [.. stages];
        }
    }
}
