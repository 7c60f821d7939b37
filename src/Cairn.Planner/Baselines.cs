namespace Cairn.Planner;

/// <summary>
/// The splits a planner must beat. <see cref="EvenSplit"/>: every device in the file's order, the same number of
/// layers each (the first <c>L mod N</c> one more). <see cref="MemoryProportionalSplit"/>: exo's rule, device i gets
/// layers [round(L·M_&lt;i / M), round(L·M_≤i / M)) of the cumulative memory fractions, so a device whose share
/// rounds to nothing is left out. Neither looks at speed or links; both may not even fit (see <see cref="Plan.Problems"/>).
/// </summary>
public static class Baselines
{
    public static Plan EvenSplit(ModelProfile model, IReadOnlyList<DeviceProfile> devices, PlanOptions options)
    {
        int layers = model.LayerCount, n = Math.Min(devices.Count, layers);
        var stages = new List<StageAssignment>(n);
        int start = 0;
        for (int i = 0; i < n; i++)
        {
            int count = layers / n + (i < layers % n ? 1 : 0);
            stages.Add(new StageAssignment(devices[i].Id, start, start + count));
            start += count;
        }
        return Finish(model, devices, stages, options, "even split");
    }

    public static Plan MemoryProportionalSplit(ModelProfile model, IReadOnlyList<DeviceProfile> devices, PlanOptions options)
    {
        int layers = model.LayerCount;
        double total = devices.Sum(d => (double)d.MemoryBytes), cumulative = 0;
        var stages = new List<StageAssignment>();
        int start = 0;
        for (int i = 0; i < devices.Count; i++)
        {
            cumulative += devices[i].MemoryBytes;
            int end = i == devices.Count - 1 ? layers : (int)Math.Round(layers * cumulative / total, MidpointRounding.AwayFromZero);
            if (end > start) stages.Add(new StageAssignment(devices[i].Id, start, end));
            start = Math.Max(start, end);
        }
        return Finish(model, devices, stages, options, "memory-proportional split (exo)");
    }

    private static Plan Finish(ModelProfile model, IReadOnlyList<DeviceProfile> devices, List<StageAssignment> stages, PlanOptions options, string method)
    {
        var plan = PlanEvaluator.Evaluate(model, devices, stages, options, method);
        var verdicts = devices.Select(d =>
        {
            var s = plan.Stages.FirstOrDefault(x => x.DeviceId == d.Id);
            return s is null ? new DeviceVerdict(d.Id, false, "no layers under this rule") : new DeviceVerdict(d.Id, true, Verdicts.Used(s));
        });
        return plan with { Devices = [.. verdicts] };
    }
}
