using System.Text.Json;

namespace Cairn.Planner;

/// <summary>
/// Reads <c>devices.json</c>:
/// <code>
/// { "devices": [
///     { "id": "laptop", "memoryBytes": 8000000000, "decodeBytesPerSecond": 2.0e10, "prefillFlopsPerSecond": 2.0e11,
///       "linkLatencySeconds": 0.002, "linkBandwidthBytesPerSecond": 1.25e8 } ] }
/// </code>
/// Every field is required; ids are unique; numbers are positive (latency may be zero); unknown fields are errors
/// (a misspelt field would otherwise be silently ignored). The order of the list is the order the baselines use.
/// </summary>
public static class DeviceFile
{
    public const int MaxDevices = 64;

    private static readonly string[] Fields =
        ["id", "memoryBytes", "decodeBytesPerSecond", "prefillFlopsPerSecond", "linkLatencySeconds", "linkBandwidthBytesPerSecond"];

    public static IReadOnlyList<DeviceProfile> Load(string path)
    {
        if (!File.Exists(path)) throw new PlannerInputException($"no such devices file: {path}");
        return Parse(File.ReadAllText(path), path);
    }

    public static IReadOnlyList<DeviceProfile> Parse(string json, string source = "devices.json")
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new PlannerInputException($"{source}: not valid JSON ({e.Message})");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("devices", out var list) || list.ValueKind != JsonValueKind.Array)
                throw new PlannerInputException($"{source}: expected an object with a \"devices\" array");
            int n = list.GetArrayLength();
            if (n is 0 or > MaxDevices) throw new PlannerInputException($"{source}: \"devices\" has {n} entries (1 to {MaxDevices} allowed)");
            var devices = new List<DeviceProfile>(n);
            var ids = new HashSet<string>(StringComparer.Ordinal);
            int index = 0;
            foreach (var e in list.EnumerateArray())
            {
                var d = ParseDevice(e, $"{source}: devices[{index}]");
                if (!ids.Add(d.Id)) throw new PlannerInputException($"{source}: devices[{index}]: duplicate id '{d.Id}'");
                devices.Add(d);
                index++;
            }
            return devices;
        }
    }

    private static DeviceProfile ParseDevice(JsonElement e, string where)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new PlannerInputException($"{where}: expected an object");
        foreach (var p in e.EnumerateObject())
        {
            if (Array.IndexOf(Fields, p.Name) < 0) throw new PlannerInputException($"{where}: unknown field \"{p.Name}\" (fields: {string.Join(", ", Fields)})");
        }
        if (!e.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(id.GetString()))
            throw new PlannerInputException($"{where}: \"id\" must be a non-empty string");
        long memory = e.TryGetProperty("memoryBytes", out var m) && m.ValueKind == JsonValueKind.Number && m.TryGetInt64(out long mv)
            ? mv : throw new PlannerInputException($"{where}: \"memoryBytes\" must be an integer");
        var d = new DeviceProfile(id.GetString()!, memory, Number(e, "decodeBytesPerSecond", where), Number(e, "prefillFlopsPerSecond", where),
            Number(e, "linkLatencySeconds", where), Number(e, "linkBandwidthBytesPerSecond", where));
        try
        {
            d.Validate();
        }
        catch (PlannerInputException x)
        {
            throw new PlannerInputException($"{where}: {x.Message}");
        }
        return d;
    }

    private static double Number(JsonElement e, string field, string where) =>
        e.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Number
            ? v.GetDouble() : throw new PlannerInputException($"{where}: \"{field}\" must be a number");
}
