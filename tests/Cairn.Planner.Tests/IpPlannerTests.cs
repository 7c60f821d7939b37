using Cairn.Planner.Tests.TestSupport;

namespace Cairn.Planner.Tests;

public sealed class IpPlannerTests
{
    [Fact]
    public void The_DP_and_the_integer_program_agree_on_two_hundred_random_instances()
    {
        int compared = 0, infeasible = 0;
        for (ulong seed = 1000; seed < 1200; seed++)
        {
            var (model, devices) = Instances.Random(seed, maxLayers: 8, maxDevices: 5);
            var options = new PlanOptions { Objective = seed % 2 == 0 ? PlanObjective.MinLatency : PlanObjective.MaxThroughput };
            Plan dp;
            try
            {
                dp = DpPlanner.Plan(model, devices, options);
            }
            catch (PlannerInputException)
            {
                Assert.Throws<PlannerInputException>(() => IpPlanner.Plan(model, devices, options));
                infeasible++;
                continue;
            }
            var ip = IpPlanner.Plan(model, devices, options);
            Assert.Equal("ip", ip.Method);
            Assert.True(ip.Fits, $"seed {seed}: {string.Join("; ", ip.Problems)}");
            Assert.True(Math.Abs(dp.ObjectiveSeconds - ip.ObjectiveSeconds) <= 1e-7 * dp.ObjectiveSeconds,
                $"seed {seed} {options.Objective}: DP {dp.ObjectiveSeconds:R} s, IP {ip.ObjectiveSeconds:R} s");
            Assert.Equal(dp.DeviceCount, ip.DeviceCount);
            Assert.Equal(dp.Devices.Select(v => v.Used), ip.Devices.Select(v => v.Used)); // continuous random costs: no ties between device sets
            Assert.Equal(dp.Devices.Select(v => v.Reason.Split(':')[0]), ip.Devices.Select(v => v.Reason.Split(':')[0]));
            compared++;
        }
        Assert.True(compared >= 150, $"only {compared} feasible instances ({infeasible} infeasible)");
    }

    [Fact]
    public void The_integer_program_honours_a_last_stage_device_the_DP_cannot_express()
    {
        var model = Instances.Model(6, _ => 1_000_000);
        DeviceProfile[] devices =
        [
            Instances.Device("fast", 4_000_000, 1e10),
            Instances.Device("medium", 4_000_000, 4e9),
            Instances.Device("edge", 4_000_000, 1e9),
        ];
        var free = IpPlanner.Plan(model, devices, new PlanOptions());
        Assert.NotEqual("edge", free.Stages[^1].DeviceId);
        var options = new PlanOptions { Solver = PlanSolver.Ip, Constraints = new PlanConstraints { LastStageDevice = "edge" } };
        var plan = Planner.Plan(model, devices, options);
        Assert.Equal("edge", plan.Stages[^1].DeviceId);
        Assert.True(plan.Fits);
        Assert.True(plan.PerTokenLatencySeconds >= free.PerTokenLatencySeconds);
        // The constrained optimum is the best of all plans that end on "edge".
        double best = BruteForce.AllPlans(model, devices, options).Where(p => p.Fits && p.Stages[^1].DeviceId == "edge").Min(p => p.PerTokenLatencySeconds);
        Assert.Equal(best, plan.PerTokenLatencySeconds, best * 1e-7);
        Assert.Throws<PlannerInputException>(() => DpPlanner.Plan(model, devices, options));
    }

    [Fact]
    public void The_integer_program_keeps_two_devices_apart()
    {
        var model = Instances.Model(6, _ => 1_000_000);
        DeviceProfile[] devices =
        [
            Instances.Device("a", 3_500_000, 1e10),
            Instances.Device("b", 3_500_000, 1e10),
            Instances.Device("c", 3_500_000, 1e9),
        ];
        var options = new PlanOptions { Solver = PlanSolver.Ip, Constraints = new PlanConstraints { NotAdjacent = [("a", "b")] } };
        var plan = Planner.Plan(model, devices, options);
        Assert.True(plan.Fits);
        for (int i = 0; i + 1 < plan.Stages.Count; i++)
        {
            var pair = new[] { plan.Stages[i].DeviceId, plan.Stages[i + 1].DeviceId };
            Assert.False(pair.Contains("a") && pair.Contains("b"), $"stages {i} and {i + 1} are a and b");
        }
        double best = BruteForce.AllPlans(model, devices, options).Where(p => p.Fits && !Adjacent(p, "a", "b")).Min(p => p.PerTokenLatencySeconds);
        Assert.Equal(best, plan.PerTokenLatencySeconds, best * 1e-7);
        // Without the constraint the two fast devices sit side by side.
        Assert.True(Adjacent(DpPlanner.Plan(model, devices, new PlanOptions()), "a", "b"));
    }

    [Fact]
    public void Constraints_that_no_plan_meets_are_an_error()
    {
        var model = Instances.Model(2, _ => 1_000_000);
        DeviceProfile[] devices = [Instances.Device("a", 1_500_000, 1e10), Instances.Device("b", 1_500_000, 1e10)];
        var options = new PlanOptions { Solver = PlanSolver.Ip, Constraints = new PlanConstraints { NotAdjacent = [("a", "b")] } };
        Assert.Contains("under the given constraints", Assert.Throws<PlannerInputException>(() => Planner.Plan(model, devices, options)).Message);
    }

    private static bool Adjacent(Plan p, string a, string b)
    {
        for (int i = 0; i + 1 < p.Stages.Count; i++)
        {
            if ((p.Stages[i].DeviceId, p.Stages[i + 1].DeviceId) == (a, b) || (p.Stages[i].DeviceId, p.Stages[i + 1].DeviceId) == (b, a)) return true;
        }
        return false;
    }
}
