namespace Cairn.Planner;

/// <summary>
/// The planner's cost model, shared by the DP, the integer program and the baselines. Decode is memory-bound:
/// a stage on device d over layers [a, b) reads its weights and its KV cache (at the full context) once per token,
/// <c>decode(d, a, b) = (Σ_l (w_l + kv_l·ctx) + [a = 0]·embedding row + [b = L]·head) / decodeBytesPerSecond_d</c>.
/// A hop leaves from the sending device's uplink: <c>latency_d + payload / bandwidth_d</c>, the payload an
/// activation (dim × 4 bytes) or, from the last stage, a token id back to the first; a single-device plan has no hop.
/// Memory: <c>Σ_l (w_l + kv_l·ctx) + every-stage bytes + [a = 0]·embedding + [b = L]·head − shared</c>. Everything
/// is a sum over layers plus first/last terms, which is what lets the integer program state it linearly.
/// </summary>
public sealed class CostModel
{
    private readonly double[][] _decodePrefix; // [d][k] = Σ_{l<k} (w_l + kv_l·ctx) / bps_d
    private readonly long[] _memoryPrefix;      // [k] = Σ_{l<k} (w_l + kv_l·ctx)
    private readonly double[] _flopsPrefix, _attentionPrefix;

    public CostModel(ModelProfile model, IReadOnlyList<DeviceProfile> devices, int context)
    {
        if (model.LayerCount == 0) throw new PlannerInputException($"model {model.Name} has no layers");
        if (devices.Count == 0) throw new PlannerInputException("no devices");
        if (context <= 0) throw new PlannerInputException($"context length {context} must be positive");
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var d in devices)
        {
            d.Validate();
            if (!ids.Add(d.Id)) throw new PlannerInputException($"duplicate device id '{d.Id}'");
        }
        Model = model;
        Devices = devices;
        Context = context;
        int n = model.LayerCount;
        _memoryPrefix = new long[n + 1];
        _flopsPrefix = new double[n + 1];
        _attentionPrefix = new double[n + 1];
        for (int l = 0; l < n; l++)
        {
            var layer = model.Layers[l];
            _memoryPrefix[l + 1] = checked(_memoryPrefix[l] + layer.WeightBytes + layer.KvBytes(context));
            _flopsPrefix[l + 1] = _flopsPrefix[l] + layer.FlopsPerToken;
            _attentionPrefix[l + 1] = _attentionPrefix[l] + layer.AttentionFlopsPerPosition;
        }
        _decodePrefix = new double[devices.Count][];
        for (int d = 0; d < devices.Count; d++)
        {
            var p = _decodePrefix[d] = new double[n + 1];
            for (int l = 0; l < n; l++) p[l + 1] = p[l] + LayerDecodeSeconds(d, l);
        }
    }

    public ModelProfile Model { get; }
    public IReadOnlyList<DeviceProfile> Devices { get; }
    public int Context { get; }
    public int Layers => Model.LayerCount;

    public int IndexOf(string deviceId)
    {
        for (int i = 0; i < Devices.Count; i++)
        {
            if (Devices[i].Id == deviceId) return i;
        }
        throw new PlannerInputException($"no device '{deviceId}' (devices: {string.Join(", ", Devices.Select(x => x.Id))})");
    }

    /// <summary>One layer's per-token decode time on device d: its weights and its KV cache, read once.</summary>
    public double LayerDecodeSeconds(int d, int layer)
    {
        var l = Model.Layers[layer];
        return (l.WeightBytes + (double)l.KvBytesPerPosition * Context) / Devices[d].DecodeBytesPerSecond;
    }

    public double FirstStageDecodeSeconds(int d) => Model.FirstStageReadBytesPerToken / Devices[d].DecodeBytesPerSecond;

    public double LastStageDecodeSeconds(int d) => Model.LastStageReadBytesPerToken / Devices[d].DecodeBytesPerSecond;

    public double DecodeSeconds(int d, int a, int b) =>
        _decodePrefix[d][b] - _decodePrefix[d][a] + (a == 0 ? FirstStageDecodeSeconds(d) : 0) + (b == Layers ? LastStageDecodeSeconds(d) : 0);

    /// <summary>The hop out of a stage on device d: to the next stage, or the token back from the last; none for a single-device plan.</summary>
    public double HopSeconds(int d, bool last, bool single)
    {
        if (single) return 0;
        var dev = Devices[d];
        return dev.LinkLatencySeconds + (last ? ModelProfile.TokenBytes : Model.ActivationBytesPerToken) / dev.LinkBandwidthBytesPerSecond;
    }

    public double HopSeconds(int d, int a, int b) => HopSeconds(d, b == Layers, a == 0 && b == Layers);

    /// <summary>Bytes a stage over [a, b) holds: weights, KV cache for the context, and the first/last-stage tensors.</summary>
    public long MemoryBytes(int a, int b) =>
        _memoryPrefix[b] - _memoryPrefix[a] + Model.EveryStageBytes + (a == 0 ? Model.FirstStageBytes : 0) + (b == Layers ? Model.LastStageBytes : 0)
        - (a == 0 && b == Layers ? Model.SharedFirstLastBytes : 0);

    /// <summary>One layer's weights and KV cache for the context.</summary>
    public long LayerMemoryBytes(int layer) => _memoryPrefix[layer + 1] - _memoryPrefix[layer];

    public bool Fits(int d, int a, int b) => MemoryBytes(a, b) <= Devices[d].MemoryBytes;

    /// <summary>Seconds to prefill <paramref name="prompt"/> tokens on device d over [a, b): matrix FLOPs, causal attention, and the head for the last token.</summary>
    public double PrefillSeconds(int d, int a, int b, int prompt)
    {
        double flops = (_flopsPrefix[b] - _flopsPrefix[a]) * prompt + (_attentionPrefix[b] - _attentionPrefix[a]) * prompt * (prompt + 1) / 2.0
            + (b == Layers ? Model.LastStageFlopsPerToken : 0);
        double hop = a == 0 && b == Layers ? 0
            : Devices[d].LinkLatencySeconds + (b == Layers ? ModelProfile.TokenBytes : (double)Model.ActivationBytesPerToken * prompt) / Devices[d].LinkBandwidthBytesPerSecond;
        return flops / Devices[d].PrefillFlopsPerSecond + hop;
    }
}
