using Cairn.Planner;

namespace Cairn.Node.Provider;

/// <summary>
/// A stage provider as an emulated device (docs/pipeline.md, "Emulating weak devices"). At start the node calibrates
/// this machine on the range it loaded: the 10th-percentile time of 30 single-row decode steps gives a decode speed in the
/// planner's cost-model bytes per second, the fastest of three 16-row prefills a prefill speed in FLOP/s. With
/// <c>--slowdown X</c> every step is then padded to X × the cost model's time for that range and row count at the
/// calibrated speed (no padding when the real compute already takes longer), so the node behaves like a device X times
/// slower than this machine as calibrated, whatever the scheduler does to the real compute, and announces exactly that
/// speed; it also runs one step at a time (<see cref="Device"/>). A flexible node
/// (<c>--layers auto</c>) also loads whatever range the gateway assigns, from its local file, within its memory budget.
/// </summary>
public sealed class StageHost
{
    private const int CalibrationSteps = 30;
    private const int CalibrationPrefillRows = 16;

    private readonly Func<int, int, ServedModel> _load;
    private readonly CostModel _unit; // one device with a speed of 1 byte/s and 1 FLOP/s: seconds = bytes or FLOPs
    private double _slowdown;

    private StageHost(Func<int, int, ServedModel> load, ModelProfile profile, long? budget, bool flexible, double slowdown, double bytesPerSecond, double flopsPerSecond)
    {
        _load = load;
        Profile = profile;
        MemoryBudget = budget;
        Flexible = flexible;
        _slowdown = slowdown;
        BytesPerSecond = bytesPerSecond;
        FlopsPerSecond = flopsPerSecond;
        _unit = new CostModel(profile, [new DeviceProfile("unit", long.MaxValue, 1, 1, 0, 1e300)], profile.ContextLength);
    }

    public ModelProfile Profile { get; }
    public long? MemoryBudget { get; }
    /// <summary>Whether the gateway may assign any range (<c>--layers auto</c>, <see cref="Load"/>).</summary>
    public bool Flexible { get; }
    /// <summary>This machine's calibrated decode speed, in cost-model bytes per second (before the slowdown).</summary>
    public double BytesPerSecond { get; }
    /// <summary>This machine's calibrated prefill speed, in FLOP/s (before the slowdown).</summary>
    public double FlopsPerSecond { get; }

    /// <summary>Held for each step while emulating (slowdown above 1): the emulated device computes one step at a time.</summary>
    public SemaphoreSlim Device { get; } = new(1, 1);

    /// <summary>The emulation factor X; changed at run time by the loopback-only <c>SetSlowdown</c> RPC.</summary>
    public double Slowdown
    {
        get => Volatile.Read(ref _slowdown);
        set => Volatile.Write(ref _slowdown, value);
    }

    /// <summary>
    /// The <c>issued_ms</c> of the last stage assignment this stage obeyed (0: none yet); a Load must carry a newer one.
    /// Read and written under <see cref="StageSessions.LoadGate"/>.
    /// </summary>
    public ulong LastAssignmentMs { get; set; }

    /// <summary>Calibrates this machine on <paramref name="model"/>'s range (a scratch session; nothing else is touched).</summary>
    public static StageHost Calibrate(ServedModel model, Func<int, int, ServedModel> load, long? budget, bool flexible, double slowdown)
    {
        var profile = ModelProfile.FromGguf(model.Path);
        var probe = new StageHost(load, profile, budget, flexible, slowdown, 1, 1);
        int first = model.Model.FirstLayer, end = model.Model.EndLayer;
        var (decode, prefill, rows) = model.CalibrationTimes(CalibrationSteps, CalibrationPrefillRows);
        double bytes = probe._unit.DecodeSeconds(0, first, end);
        double flops = probe.PrefillWork(first, end, rows);
        return new StageHost(load, profile, budget, flexible, slowdown, bytes / Math.Max(decode.TotalSeconds, 1e-7), flops / Math.Max(prefill.TotalSeconds, 1e-7));
    }

    /// <summary>What the emulated device takes for a step of <paramref name="rows"/> rows over [first, end): X × the cost model's time at the calibrated speed.</summary>
    public TimeSpan Target(int first, int end, int rows)
    {
        double seconds = rows == 1 ? _unit.DecodeSeconds(0, first, end) / BytesPerSecond : PrefillWork(first, end, rows) / FlopsPerSecond;
        return TimeSpan.FromSeconds(seconds * Slowdown);
    }

    /// <summary>Bytes a range holds by the planner's rule (weights, full-context KV cache, first/last-stage tensors).</summary>
    public long MemoryBytes(int first, int end) => _unit.MemoryBytes(first, end);

    /// <summary>Null if [first, end) is a valid range within the memory budget, else why not.</summary>
    public string? Check(int first, int end)
    {
        if (first < 0 || end > Profile.LayerCount || first >= end)
            return $"layers {first}:{end} are not a range A:B with 0 <= A < B <= {Profile.LayerCount}";
        long need = MemoryBytes(first, end);
        return MemoryBudget is { } budget && need > budget
            ? $"layers {first}:{end} need {need:N0} bytes (weights + KV cache for {Profile.ContextLength} positions), more than the memory budget of {budget:N0} bytes"
            : null;
    }

    /// <summary>Loads [first, end) from the local file (the caller swaps it in).</summary>
    public ServedModel Load(int first, int end) => _load(first, end);

    /// <summary>The largest range from layer 0 that fits the budget, else the first single layer that does; null if none.</summary>
    public static (int First, int End)? InitialRange(ModelProfile profile, long? budget)
    {
        var unit = new CostModel(profile, [new DeviceProfile("unit", long.MaxValue, 1, 1, 0, 1e300)], profile.ContextLength);
        int layers = profile.LayerCount;
        for (int end = layers; end >= 1; end--)
        {
            if (budget is null || unit.MemoryBytes(0, end) <= budget) return (0, end);
        }
        for (int l = 1; l < layers; l++)
        {
            if (unit.MemoryBytes(l, l + 1) <= budget) return (l, l + 1);
        }
        return null;
    }

    /// <summary>The FLOPs of a <paramref name="rows"/>-row step (the unit device's link is instantaneous, so its time is its work).</summary>
    private double PrefillWork(int first, int end, int rows) => _unit.PrefillSeconds(0, first, end, rows);
}
