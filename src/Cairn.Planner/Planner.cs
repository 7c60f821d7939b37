namespace Cairn.Planner;

/// <summary>
/// The entry point for the CLI, the gateway and the runtime: <c>Planner.Plan(model, devices, options)</c> returns a
/// <see cref="Plan"/> whose <see cref="Plan.Stages"/> (device id, first layer, end layer exclusive) say who runs
/// what, with the predicted latency, throughput and a verdict per device. Throws <see cref="PlannerInputException"/>
/// on bad input and when no plan fits.
/// </summary>
public static class Planner
{
    public static Plan Plan(ModelProfile model, IReadOnlyList<DeviceProfile> devices, PlanOptions options) => options.Solver switch
    {
        PlanSolver.Dp => DpPlanner.Plan(model, devices, options),
        PlanSolver.Ip => IpPlanner.Plan(model, devices, options),
        _ => throw new PlannerInputException($"unknown solver {options.Solver}"),
    };
}
