namespace Cairn.Planner;

/// <summary>A planner input (a devices file, a device profile, options) is malformed or out of range; the message names the field and the value.</summary>
public sealed class PlannerInputException(string message) : Exception(message);
