namespace Cairn.Node.Gateway.Dashboard;

/// <summary>
/// The current pipeline plan as <c>GET /v1/pipeline</c> shows it: which device holds which layers of which model and
/// its measured step time. Empty until pipeline-parallel serving sets it (<see cref="Set"/>); meanwhile every
/// provider holds the whole model, which the overview says.
/// </summary>
public sealed class PipelinePlan
{
    private PipelineView _current = new([]);

    public PipelineView Current => Volatile.Read(ref _current);

    public void Set(PipelineView plan) => Volatile.Write(ref _current, plan);
}

/// <summary>A plan: its stages in order.</summary>
public sealed record PipelineView(PipelineStageView[] Stages);

/// <summary>One stage: <c>Device</c> (a provider id or a device name) runs layers <c>FirstLayer</c>..<c>LastLayer</c> (inclusive) of <c>Model</c>; <c>StepSeconds</c> its measured time per step, null if not measured.</summary>
public sealed record PipelineStageView(string Model, string Device, int FirstLayer, int LastLayer, double? StepSeconds);
