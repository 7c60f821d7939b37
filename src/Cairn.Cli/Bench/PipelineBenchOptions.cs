using System.Globalization;
using Cairn.Cli.Commands;

namespace Cairn.Cli.Bench;

/// <summary>Settings of <c>cairn pipeline bench</c>.</summary>
internal sealed record PipelineBenchOptions
{
    public required string Model { get; init; }
    public required IReadOnlyList<BenchDevice> Devices { get; init; }
    public int Tokens { get; init; } = 48;
    public int Repeats { get; init; } = 3;
    public int Concurrent { get; init; } = 4;
    public double SlowTo { get; init; } = 200;
    public required string DataDirectory { get; init; }

    /// <summary><c>A:5MB:4,B:5MB:10</c>: id, memory budget (as <c>--memory</c> takes it), slowdown.</summary>
    public static IReadOnlyList<BenchDevice> ParseDevices(string text)
    {
        var devices = new List<BenchDevice>();
        foreach (string item in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            string[] parts = item.Split(':');
            if (parts.Length != 3 || parts[0].Length == 0 || !double.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out double slowdown) || !(slowdown >= 1 && slowdown <= 1000))
                throw new ArgumentException($"--devices: '{item}' is not ID:MEMORY:SLOWDOWN with a slowdown from 1 to 1000 (e.g. A:5MB:4)");
            NodeCommand.ParseBytes(parts[1], "--devices");
            devices.Add(new BenchDevice(parts[0], parts[1], slowdown));
        }
        if (devices.Count is < 2 or > 12) throw new ArgumentException($"--devices names {devices.Count} devices; the bench needs 2 to 12");
        if (devices.Select(d => d.Id).Distinct(StringComparer.Ordinal).Count() != devices.Count) throw new ArgumentException("--devices: ids must be unique");
        return devices;
    }
}

/// <summary>One emulated device: a flexible stage with this memory budget and slowdown.</summary>
internal sealed record BenchDevice(string Id, string Memory, double Slowdown);
