namespace Cairn.Planner;

/// <summary>Costs any contiguous assignment with the <see cref="CostModel"/>: the DP's, the integer program's and the baselines' plans alike.</summary>
public static class PlanEvaluator
{
    public static Plan Evaluate(ModelProfile model, IReadOnlyList<DeviceProfile> devices, IReadOnlyList<StageAssignment> stages, PlanOptions options, string method) =>
        Evaluate(new CostModel(model, devices, options.ContextFor(model)), stages, options, method);

    internal static Plan Evaluate(CostModel cost, IReadOnlyList<StageAssignment> stages, PlanOptions options, string method)
    {
        Check(cost, stages);
        var result = new List<PlanStage>(stages.Count);
        var problems = new List<string>();
        double latency = 0, bottleneck = 0, prefill = 0;
        int prompt = Math.Min(options.PromptTokens, cost.Context);
        foreach (var s in stages)
        {
            int d = cost.IndexOf(s.DeviceId);
            double decode = cost.DecodeSeconds(d, s.FirstLayer, s.EndLayer), hop = cost.HopSeconds(d, s.FirstLayer, s.EndLayer);
            long memory = cost.MemoryBytes(s.FirstLayer, s.EndLayer);
            if (memory > cost.Devices[d].MemoryBytes)
                problems.Add($"device '{s.DeviceId}' needs {memory:N0} bytes for layers {s.FirstLayer}..{s.EndLayer - 1} but has {cost.Devices[d].MemoryBytes:N0}");
            double stagePrefill = cost.PrefillSeconds(d, s.FirstLayer, s.EndLayer, prompt);
            result.Add(new PlanStage(s.DeviceId, s.FirstLayer, s.EndLayer, memory, decode, hop, stagePrefill));
            latency += decode + hop;
            bottleneck = Math.Max(bottleneck, Math.Max(decode, hop));
            prefill += stagePrefill;
        }
        return new Plan
        {
            Method = method,
            Objective = options.Objective,
            ContextLength = cost.Context,
            Stages = result,
            PerTokenLatencySeconds = latency,
            BottleneckSeconds = bottleneck,
            PrefillSeconds = prefill,
            PromptTokens = prompt,
            Problems = problems,
        };
    }

    private static void Check(CostModel cost, IReadOnlyList<StageAssignment> stages)
    {
        if (stages.Count == 0) throw new PlannerInputException("a plan needs at least one stage");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int next = 0;
        foreach (var s in stages)
        {
            if (!seen.Add(s.DeviceId)) throw new PlannerInputException($"device '{s.DeviceId}' appears in two stages");
            if (s.FirstLayer != next || s.EndLayer <= s.FirstLayer)
                throw new PlannerInputException($"stage on '{s.DeviceId}' covers layers [{s.FirstLayer}, {s.EndLayer}); expected to start at {next} and hold at least one layer");
            next = s.EndLayer;
        }
        if (next != cost.Layers) throw new PlannerInputException($"the stages end at layer {next} but the model has {cost.Layers}");
    }
}
