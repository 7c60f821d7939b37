namespace Cairn.Planner;

/// <summary>
/// One stage: <see cref="DeviceId"/> runs layers [<see cref="FirstLayer"/>, <see cref="EndLayer"/>) (end exclusive),
/// holding <see cref="MemoryBytes"/>; per token it decodes in <see cref="DecodeSeconds"/> and then spends
/// <see cref="HopSeconds"/> sending the activation on (or the token back, for the last stage).
/// </summary>
public sealed record PlanStage(string DeviceId, int FirstLayer, int EndLayer, long MemoryBytes, double DecodeSeconds, double HopSeconds, double PrefillSeconds)
{
    public int LayerCount => EndLayer - FirstLayer;
}
