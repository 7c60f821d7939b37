namespace Cairn.Planner;

/// <summary>Layers [<see cref="FirstLayer"/>, <see cref="EndLayer"/>) on one device: a plan before it is costed.</summary>
public readonly record struct StageAssignment(string DeviceId, int FirstLayer, int EndLayer);
