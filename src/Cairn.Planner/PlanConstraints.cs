namespace Cairn.Planner;

/// <summary>
/// Side constraints only the integer program takes (the DP's state has no room for them): a device that must
/// run the last stage (it samples and returns tokens, e.g. the one next to the gateway), and pairs of devices
/// whose stages must not follow one another (e.g. two devices behind the same slow home link).
/// </summary>
public sealed record PlanConstraints
{
    public static PlanConstraints None { get; } = new();

    public string? LastStageDevice { get; init; }
    public IReadOnlyList<(string A, string B)> NotAdjacent { get; init; } = [];

    public bool IsEmpty => LastStageDevice is null && NotAdjacent.Count == 0;
}
