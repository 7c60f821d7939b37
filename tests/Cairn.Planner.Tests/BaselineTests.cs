using Cairn.Planner.Tests.TestSupport;

namespace Cairn.Planner.Tests;

public sealed class BaselineTests
{
    /// <summary>Four providers of different speed and memory, as in a home network: a desktop, a laptop, a phone, an old board.</summary>
    private static DeviceProfile[] Heterogeneous() =>
    [
        Instances.Device("board", 12_000_000, 3e8, latency: 0.004, bandwidth: 1e7),
        Instances.Device("desktop", 9_000_000, 2e10, latency: 0.001, bandwidth: 1e9),
        Instances.Device("phone", 10_000_000, 1e9, latency: 0.006, bandwidth: 5e6),
        Instances.Device("laptop", 6_000_000, 8e9, latency: 0.002, bandwidth: 1e8),
    ];

    [Theory]
    [InlineData(PlanObjective.MinLatency)]
    [InlineData(PlanObjective.MaxThroughput)]
    public void On_heterogeneous_devices_the_plan_beats_the_even_and_the_memory_proportional_split_by_a_wide_margin(PlanObjective objective)
    {
        var model = Instances.Model(16, l => 800_000 + 50_000 * (l % 3));
        var devices = Heterogeneous();
        var options = new PlanOptions { Objective = objective };
        var plan = Planner.Plan(model, devices, options);
        var even = Baselines.EvenSplit(model, devices, options);
        var exo = Baselines.MemoryProportionalSplit(model, devices, options);
        Assert.True(plan.Fits && even.Fits && exo.Fits);
        // The baselines hand layers to the slow board and phone; the planner does not.
        Assert.True(plan.ObjectiveSeconds < 0.5 * even.ObjectiveSeconds, $"plan {plan.ObjectiveSeconds:R} s, even {even.ObjectiveSeconds:R} s");
        Assert.True(plan.ObjectiveSeconds < 0.5 * exo.ObjectiveSeconds, $"plan {plan.ObjectiveSeconds:R} s, exo {exo.ObjectiveSeconds:R} s");
    }

    [Fact]
    public void The_plan_is_never_worse_than_a_baseline_that_fits()
    {
        int compared = 0;
        for (ulong seed = 5000; seed < 5200; seed++)
        {
            var (model, devices) = Instances.Random(seed, maxLayers: 10, maxDevices: 5);
            foreach (var objective in new[] { PlanObjective.MinLatency, PlanObjective.MaxThroughput })
            {
                var options = new PlanOptions { Objective = objective };
                foreach (var baseline in new[] { Baselines.EvenSplit(model, devices, options), Baselines.MemoryProportionalSplit(model, devices, options) })
                {
                    if (!baseline.Fits) continue;
                    var plan = Planner.Plan(model, devices, options); // a fitting baseline means the planner must find a plan
                    Assert.True(plan.ObjectiveSeconds <= baseline.ObjectiveSeconds * (1 + 1e-9), $"seed {seed}: {baseline.Method}");
                    compared++;
                }
            }
        }
        Assert.True(compared > 50, $"only {compared} baselines fitted");
    }

    [Fact]
    public void The_even_split_uses_every_device_in_order_and_the_memory_rule_follows_budgets()
    {
        var model = Instances.Model(10, _ => 1_000);
        DeviceProfile[] devices = [Instances.Device("a", 1_000_000, 1e9), Instances.Device("b", 3_000_000, 1e9), Instances.Device("c", 6_000_000, 1e9)];
        var even = Baselines.EvenSplit(model, devices, new PlanOptions());
        Assert.Equal([("a", 0, 4), ("b", 4, 7), ("c", 7, 10)], even.Stages.Select(s => (s.DeviceId, s.FirstLayer, s.EndLayer)));
        var exo = Baselines.MemoryProportionalSplit(model, devices, new PlanOptions());
        Assert.Equal([("a", 0, 1), ("b", 1, 4), ("c", 4, 10)], exo.Stages.Select(s => (s.DeviceId, s.FirstLayer, s.EndLayer)));
    }

    [Fact]
    public void A_baseline_that_overfills_a_device_says_so()
    {
        var model = Instances.Model(4, _ => 1_000_000);
        DeviceProfile[] devices = [Instances.Device("small", 1_000_000, 1e9), Instances.Device("big", 10_000_000, 1e9)];
        var even = Baselines.EvenSplit(model, devices, new PlanOptions());
        Assert.False(even.Fits);
        Assert.Contains("device 'small' needs", even.Problems[0]);
    }
}
