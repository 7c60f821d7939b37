using System.Globalization;
using Google.OrTools.Sat;

namespace Cairn.Planner;

/// <summary>
/// The planning problem as an integer program, solved by OR-Tools CP-SAT: the cross-check of <see cref="DpPlanner"/>
/// and the solver for <see cref="PlanConstraints"/> the DP cannot express.
/// <para>
/// Variables: x[l, d] = layer l runs on device d; s[l, d] = d's block starts at l; u[d] = d is used;
/// both[d] = d holds the first and the last layer (a single-device plan). Constraints: Σ_d x[l, d] = 1;
/// s[l, d] ≥ x[l, d] − x[l−1, d], s ≤ x, Σ_l s[l, d] = u[d] ≤ 1 (each device one contiguous block; the pipeline
/// order is the order of the blocks); both[d] = x[0, d] ∧ x[L−1, d]; memory Σ_l x·(w_l + kv_l) + u·every +
/// x[0, d]·first + x[L−1, d]·last − both·shared ≤ budget_d. Stage decode C_d = Σ_l x·t[l, d] + x[0, d]·t_first +
/// x[L−1, d]·t_last; hop H_d = (u − both)·latency + (u − x[L−1, d])·activation/bw + (x[L−1, d] − both)·token/bw.
/// Objective Σ_d (C_d + H_d), or z with z ≥ C_d, z ≥ H_d. Times are integers in units of
/// <c>1e-9 × the slowest possible stage</c>, so rounding moves an objective by far less than the tests' tolerance.
/// Finer units are not better: at 1e-11 CP-SAT (9.15) reported "optimal" for a plan worse than a feasible one
/// (seed 1003 of the DP = IP test), presumably the floating-point LP relaxation losing precision on coefficients
/// near 1e11; the DP = IP property test is the guard. One worker and a fixed seed (deterministic), with the full LP
/// relaxation (<c>linearization_level:2</c>): on 32 layers × 8 devices the latency objective is then proven optimal
/// in about 11 s, where the default level had not proven it after 60.
/// </para>
/// <para>
/// Lexicographic like the DP: first the objective, then the fewest devices among optimal plans, then (for
/// throughput) the least latency — each a separate solve with the previous optimum fixed.
/// </para>
/// </summary>
public static class IpPlanner
{
    private const double Resolution = 1e9;

    public static Plan Plan(ModelProfile model, IReadOnlyList<DeviceProfile> devices, PlanOptions options)
    {
        var cost = new CostModel(model, devices, options.ContextFor(model));
        var problem = new Problem(cost, options);
        long? optimum = problem.Solve(options.Objective, forceDevice: -1, objectiveCap: null, deviceCount: null, out _, out bool proven);
        if (optimum is null) throw new PlannerInputException(DpPlanner.Infeasible(cost) + Constrained(options));
        long count = problem.Solve(null, -1, optimum, null, out _, out bool p2)!.Value;
        long[] x;
        bool p3 = true;
        if (options.Objective == PlanObjective.MaxThroughput) problem.Solve(PlanObjective.MinLatency, -1, optimum, count, out x, out p3);
        else problem.Solve(options.Objective, -1, optimum, count, out x, out p3);
        string method = proven && p2 && p3 ? "ip" : "ip (time limit reached: optimality not proven)";
        var plan = PlanEvaluator.Evaluate(cost, problem.Stages(x), options, method);
        double optimumSeconds = plan.ObjectiveSeconds;
        var verdicts = new DeviceVerdict[devices.Count];
        for (int d = 0; d < devices.Count; d++)
        {
            var stage = plan.Stages.FirstOrDefault(s => s.DeviceId == devices[d].Id);
            if (stage is not null)
            {
                verdicts[d] = new DeviceVerdict(devices[d].Id, true, Verdicts.Used(stage));
                continue;
            }
            double with = double.PositiveInfinity;
            if (problem.Solve(options.Objective, d, null, null, out long[] xd, out _) is not null)
                with = PlanEvaluator.Evaluate(cost, problem.Stages(xd), options, "ip").ObjectiveSeconds;
            verdicts[d] = new DeviceVerdict(devices[d].Id, false, Verdicts.LeftOut(cost, d, with, optimumSeconds, options.Objective, tieTolerance: 1e-6));
        }
        return plan with { Devices = verdicts };
    }

    private static string Constrained(PlanOptions options) => options.Constraints.IsEmpty ? "" : " under the given constraints";

    /// <summary>Builds and solves one CP-SAT model per call (objectives and fixings differ between the lexicographic passes).</summary>
    private sealed class Problem(CostModel cost, PlanOptions options)
    {
        private readonly double _scale = Resolution / SlowestStage(cost);
        private readonly int _layers = cost.Layers, _devices = cost.Devices.Count;

        private long T(double seconds) => (long)Math.Round(seconds * _scale);

        private static double SlowestStage(CostModel cost)
        {
            double max = 0;
            for (int d = 0; d < cost.Devices.Count; d++)
                max = Math.Max(max, cost.DecodeSeconds(d, 0, cost.Layers) + cost.HopSeconds(d, false, false));
            return max;
        }

        /// <summary>
        /// Minimizes <paramref name="objective"/> (null: the device count) with optional fixings; returns the optimal
        /// integer objective, or null when infeasible; <paramref name="x"/> gets the device of every layer.
        /// </summary>
        public long? Solve(PlanObjective? objective, int forceDevice, long? objectiveCap, long? deviceCount, out long[] x, out bool proven)
        {
            var m = new CpModel();
            var layerOn = new BoolVar[_layers, _devices];
            var used = new BoolVar[_devices];
            var latency = LinearExpr.NewBuilder();
            var z = m.NewIntVar(0, 2 * (long)Resolution, "z"); // no stage or hop exceeds the slowest whole-model stage
            for (int l = 0; l < _layers; l++)
            {
                for (int d = 0; d < _devices; d++) layerOn[l, d] = m.NewBoolVar($"x_{l}_{d}");
            }
            for (int l = 0; l < _layers; l++) m.Add(LinearExpr.Sum(Row(layerOn, l)) == 1);
            for (int d = 0; d < _devices; d++)
            {
                used[d] = m.NewBoolVar($"u_{d}");
                var starts = new BoolVar[_layers];
                for (int l = 0; l < _layers; l++)
                {
                    starts[l] = m.NewBoolVar($"s_{l}_{d}");
                    m.Add(starts[l] <= layerOn[l, d]);
                    if (l == 0) m.Add(starts[l] >= layerOn[l, d]);
                    else m.Add(starts[l] >= layerOn[l, d] - layerOn[l - 1, d]);
                }
                m.Add(LinearExpr.Sum(starts) == used[d]);
                var first = layerOn[0, d];
                var last = layerOn[_layers - 1, d];
                var both = m.NewBoolVar($"both_{d}");
                m.Add(both <= first);
                m.Add(both <= last);
                m.Add(both >= first + last - 1);

                var memory = LinearExpr.NewBuilder();
                var decode = LinearExpr.NewBuilder();
                for (int l = 0; l < _layers; l++)
                {
                    memory.AddTerm(layerOn[l, d], cost.LayerMemoryBytes(l));
                    decode.AddTerm(layerOn[l, d], T(cost.LayerDecodeSeconds(d, l)));
                }
                memory.AddTerm(used[d], cost.Model.EveryStageBytes).AddTerm(first, cost.Model.FirstStageBytes).AddTerm(last, cost.Model.LastStageBytes)
                    .AddTerm(both, -cost.Model.SharedFirstLastBytes);
                m.Add(memory <= cost.Devices[d].MemoryBytes);
                decode.AddTerm(first, T(cost.FirstStageDecodeSeconds(d))).AddTerm(last, T(cost.LastStageDecodeSeconds(d)));

                var dev = cost.Devices[d];
                long hopLatency = T(dev.LinkLatencySeconds), activation = T(cost.Model.ActivationBytesPerToken / dev.LinkBandwidthBytesPerSecond),
                    token = T(ModelProfile.TokenBytes / dev.LinkBandwidthBytesPerSecond);
                var hop = LinearExpr.NewBuilder()
                    .AddTerm(used[d], hopLatency + activation).AddTerm(both, -hopLatency - token).AddTerm(last, token - activation);
                m.Add(z >= decode);
                m.Add(z >= hop);
                latency.Add(decode).Add(hop);
            }
            AddConstraints(m, layerOn);
            if (forceDevice >= 0) m.Add(used[forceDevice] == 1);
            LinearExpr primary = options.Objective == PlanObjective.MinLatency ? latency : z;
            if (objectiveCap is long cap) m.Add(primary <= cap);
            if (deviceCount is long n) m.Add(LinearExpr.Sum(used) == n);
            m.Minimize(objective switch
            {
                PlanObjective.MinLatency => latency,
                PlanObjective.MaxThroughput => z,
                _ => LinearExpr.Sum(used),
            });

            var solver = new CpSolver
            {
                StringParameters = string.Create(CultureInfo.InvariantCulture, $"num_workers:1,random_seed:1,max_time_in_seconds:{options.IpTimeLimitSeconds},linearization_level:2"),
            };
            var status = solver.Solve(m);
            x = new long[_layers];
            proven = status == CpSolverStatus.Optimal;
            if (status is not (CpSolverStatus.Optimal or CpSolverStatus.Feasible))
            {
                if (status == CpSolverStatus.Infeasible) return null;
                throw new InvalidOperationException($"CP-SAT stopped with status {status} ({solver.SolutionInfo()}) within {options.IpTimeLimitSeconds} s");
            }
            for (int l = 0; l < _layers; l++)
            {
                for (int d = 0; d < _devices; d++)
                {
                    if (solver.BooleanValue(layerOn[l, d])) x[l] = d;
                }
            }
            return (long)Math.Round(solver.ObjectiveValue);
        }

        private void AddConstraints(CpModel m, BoolVar[,] layerOn)
        {
            var c = options.Constraints;
            if (c.LastStageDevice is string lastId) m.Add(layerOn[_layers - 1, cost.IndexOf(lastId)] == 1);
            foreach (var (aId, bId) in c.NotAdjacent)
            {
                int a = cost.IndexOf(aId), b = cost.IndexOf(bId);
                if (a == b) throw new PlannerInputException($"device '{aId}' cannot be kept from being adjacent to itself");
                for (int l = 0; l + 1 < _layers; l++)
                {
                    m.Add(layerOn[l, a] + layerOn[l + 1, b] <= 1);
                    m.Add(layerOn[l, b] + layerOn[l + 1, a] <= 1);
                }
            }
        }

        private static BoolVar[] Row(BoolVar[,] v, int l)
        {
            var row = new BoolVar[v.GetLength(1)];
            for (int d = 0; d < row.Length; d++) row[d] = v[l, d];
            return row;
        }

        public StageAssignment[] Stages(long[] deviceOfLayer)
        {
            var stages = new List<StageAssignment>();
            int start = 0;
            for (int l = 1; l <= _layers; l++)
            {
                if (l == _layers || deviceOfLayer[l] != deviceOfLayer[start])
                {
                    stages.Add(new StageAssignment(cost.Devices[(int)deviceOfLayer[start]].Id, start, l));
                    start = l;
                }
            }
            return [.. stages];
        }
    }
}
