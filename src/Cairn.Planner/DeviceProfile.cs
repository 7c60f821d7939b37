namespace Cairn.Planner;

/// <summary>
/// One device that can run a stage. <see cref="DecodeBytesPerSecond"/>: weight bytes it streams per second in
/// memory-bound decode; <see cref="PrefillFlopsPerSecond"/>: its compute rate on a prompt; the link is its own
/// uplink (the hop from this device to the next stage, or back with the token from the last stage).
/// </summary>
public sealed record DeviceProfile(
    string Id,
    long MemoryBytes,
    double DecodeBytesPerSecond,
    double PrefillFlopsPerSecond,
    double LinkLatencySeconds,
    double LinkBandwidthBytesPerSecond)
{
    /// <summary>
    /// A device from a provider's diagnostic benchmark (whole-model prefill and decode tokens per second on
    /// <paramref name="model"/>): decode bytes/s = decode tok/s × the bytes one token reads; prefill FLOP/s =
    /// prefill tok/s × the FLOPs of one token (context-dependent attention left out).
    /// </summary>
    public static DeviceProfile FromBenchmark(string id, long memoryBytes, ModelProfile model, double prefillTokensPerSecond,
        double decodeTokensPerSecond, double linkLatencySeconds, double linkBandwidthBytesPerSecond)
    {
        double bytesPerToken = model.FirstStageReadBytesPerToken + model.LastStageReadBytesPerToken;
        double flopsPerToken = model.LastStageFlopsPerToken;
        foreach (var l in model.Layers)
        {
            bytesPerToken += l.WeightBytes;
            flopsPerToken += l.FlopsPerToken;
        }
        var d = new DeviceProfile(id, memoryBytes, decodeTokensPerSecond * bytesPerToken, prefillTokensPerSecond * flopsPerToken,
            linkLatencySeconds, linkBandwidthBytesPerSecond);
        d.Validate();
        return d;
    }

    /// <summary>Throws <see cref="PlannerInputException"/> naming the field when a value is out of range.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Id)) throw new PlannerInputException("a device has an empty id");
        if (MemoryBytes <= 0) throw Bad("memoryBytes", MemoryBytes, "must be positive");
        Positive("decodeBytesPerSecond", DecodeBytesPerSecond);
        Positive("prefillFlopsPerSecond", PrefillFlopsPerSecond);
        if (!(LinkLatencySeconds >= 0 && double.IsFinite(LinkLatencySeconds))) throw Bad("linkLatencySeconds", LinkLatencySeconds, "must be zero or positive");
        Positive("linkBandwidthBytesPerSecond", LinkBandwidthBytesPerSecond);
    }

    private void Positive(string field, double value)
    {
        if (!(value > 0 && double.IsFinite(value))) throw Bad(field, value, "must be a positive finite number");
    }

    private PlannerInputException Bad(string field, object value, string rule) =>
        new($"device '{Id}': {field} {value} {rule}");
}
