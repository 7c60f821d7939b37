using Cairn.Planner.Tests.TestSupport;

namespace Cairn.Planner.Tests;

public sealed class DpPlannerTests
{
    private static readonly PlanObjective[] Objectives = [PlanObjective.MinLatency, PlanObjective.MaxThroughput];

    [Fact]
    public void The_DP_finds_the_brute_force_optimum_with_the_fewest_devices_on_small_random_instances()
    {
        int feasible = 0;
        for (ulong seed = 1; seed <= 150; seed++)
        {
            var (model, devices) = Instances.Random(seed, maxLayers: 6, maxDevices: 4);
            foreach (var objective in Objectives)
            {
                var options = new PlanOptions { Objective = objective };
                var best = BruteForce.Best(model, devices, options);
                if (best is null)
                {
                    Assert.Throws<PlannerInputException>(() => DpPlanner.Plan(model, devices, options));
                    continue;
                }
                feasible++;
                var plan = DpPlanner.Plan(model, devices, options);
                Assert.True(plan.Fits, $"seed {seed}: {string.Join("; ", plan.Problems)}");
                Assert.Equal(best.ObjectiveSeconds, plan.ObjectiveSeconds, 1e-12 + best.ObjectiveSeconds * 1e-9);
                Assert.Equal(best.DeviceCount, plan.DeviceCount);
                if (objective == PlanObjective.MaxThroughput)
                    Assert.Equal(best.PerTokenLatencySeconds, plan.PerTokenLatencySeconds, best.PerTokenLatencySeconds * 1e-9);
            }
        }
        Assert.True(feasible >= 150, $"only {feasible} feasible cases: the generator is too tight to test much");
    }

    [Fact]
    public void Every_stage_of_a_plan_fits_its_device_memory_budget()
    {
        for (ulong seed = 200; seed < 300; seed++)
        {
            var (model, devices) = Instances.Random(seed, maxLayers: 12, maxDevices: 6);
            Plan plan;
            try
            {
                plan = DpPlanner.Plan(model, devices, new PlanOptions());
            }
            catch (PlannerInputException)
            {
                continue;
            }
            var cost = new CostModel(model, devices, model.ContextLength);
            foreach (var s in plan.Stages)
                Assert.True(s.MemoryBytes <= devices.Single(d => d.Id == s.DeviceId).MemoryBytes);
            Assert.Equal(cost.Layers, plan.Stages[^1].EndLayer);
        }
    }

    [Fact]
    public void A_device_that_would_slow_the_pipeline_is_left_out_and_the_reason_says_by_how_much()
    {
        var model = Instances.Model(8, _ => 1_000_000);
        DeviceProfile[] devices =
        [
            Instances.Device("fast", 7_000_000, 1e10),
            Instances.Device("medium", 7_000_000, 5e9),
            Instances.Device("slow", 20_000_000, 1e8),
        ];
        var plan = DpPlanner.Plan(model, devices, new PlanOptions());
        Assert.DoesNotContain(plan.Stages, s => s.DeviceId == "slow");
        var slow = plan.Devices.Single(v => v.DeviceId == "slow");
        Assert.False(slow.Used);
        Assert.StartsWith("would slow the pipeline by ", slow.Reason);
        // The slow device has memory for the whole model: exo's rule gives it most of the layers.
        var exo = Baselines.MemoryProportionalSplit(model, devices, new PlanOptions());
        Assert.Contains(exo.Stages, s => s.DeviceId == "slow" && s.LayerCount >= 4);
    }

    [Fact]
    public void The_fewest_devices_are_used_when_more_would_not_raise_throughput()
    {
        // One device holds everything and its decode is the bottleneck a split cannot beat: the hops of a split are slower.
        var model = Instances.Model(4, _ => 100_000);
        DeviceProfile[] devices =
        [
            Instances.Device("a", 10_000_000, 1e10, latency: 0.05),
            Instances.Device("b", 10_000_000, 5e9, latency: 0.05),
            Instances.Device("c", 10_000_000, 5e9, latency: 0.05),
        ];
        var plan = DpPlanner.Plan(model, devices, new PlanOptions { Objective = PlanObjective.MaxThroughput });
        Assert.Equal(1, plan.DeviceCount);
        Assert.All(plan.Devices.Where(v => !v.Used), v => Assert.StartsWith("would slow the pipeline", v.Reason));

        // Free hops, and one giant layer whose stage is the bottleneck however the rest is split: a plan of two devices
        // and one of three have the same throughput, and the planner takes two.
        var model2 = Instances.Model(4, l => l == 0 ? 10_000_000 : 1_000);
        DeviceProfile[] free = [.. devices.Select(d => d with { DecodeBytesPerSecond = 1e10, MemoryBytes = 20_000_000, LinkLatencySeconds = 0, LinkBandwidthBytesPerSecond = 1e15 })];
        var split = DpPlanner.Plan(model2, free, new PlanOptions { Objective = PlanObjective.MaxThroughput });
        Assert.Equal(2, split.DeviceCount);
        Assert.Equal(1, split.Stages[0].LayerCount);
        Assert.StartsWith("not needed", split.Devices.Single(v => !v.Used).Reason);
    }

    [Fact]
    public void A_device_too_small_for_any_stage_is_said_not_to_fit()
    {
        var model = Instances.Model(3, _ => 1_000_000);
        DeviceProfile[] devices = [Instances.Device("big", 10_000_000, 1e9), Instances.Device("tiny", 10_000, 1e12)];
        var plan = DpPlanner.Plan(model, devices, new PlanOptions());
        Assert.StartsWith("does not fit", plan.Devices.Single(v => v.DeviceId == "tiny").Reason);
    }

    [Fact]
    public void No_plan_that_fits_is_an_error_naming_the_memory()
    {
        var model = Instances.Model(3, _ => 1_000_000);
        var e = Assert.Throws<PlannerInputException>(() => DpPlanner.Plan(model, [Instances.Device("a", 1_500_000, 1e9)], new PlanOptions()));
        Assert.Contains("no plan fits", e.Message);
    }

    [Fact]
    public void The_DP_refuses_side_constraints_and_too_many_devices()
    {
        var model = Instances.Model(3, _ => 1_000);
        var options = new PlanOptions { Constraints = new PlanConstraints { LastStageDevice = "a" } };
        Assert.Contains("integer program", Assert.Throws<PlannerInputException>(() => DpPlanner.Plan(model, [Instances.Device("a", 10_000_000, 1e9)], options)).Message);
        var many = Enumerable.Range(0, DpPlanner.MaxDevices + 1).Select(i => Instances.Device($"d{i}", 10_000_000, 1e9)).ToArray();
        Assert.Contains("at most", Assert.Throws<PlannerInputException>(() => DpPlanner.Plan(model, many, new PlanOptions())).Message);
    }

    [Fact]
    public void Twelve_devices_and_forty_layers_are_planned()
    {
        var model = Instances.Model(40, l => 200_000 + 10_000 * (l % 5));
        var devices = Enumerable.Range(0, DpPlanner.MaxDevices).Select(i => Instances.Device($"d{i}", 1_500_000 + 300_000 * i, 1e9 * (1 + i % 4))).ToArray();
        var plan = DpPlanner.Plan(model, devices, new PlanOptions { Objective = PlanObjective.MaxThroughput });
        Assert.True(plan.Fits);
        Assert.Equal(40, plan.Stages.Sum(s => s.LayerCount));
    }
}
