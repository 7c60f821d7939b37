namespace Cairn.Planner;

/// <summary>Whether a device is in the plan, and why (the layers and their time, or why it was left out).</summary>
public sealed record DeviceVerdict(string DeviceId, bool Used, string Reason);
