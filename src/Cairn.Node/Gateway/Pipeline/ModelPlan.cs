using Cairn.Node.Rpc;
using Cairn.Planner;

namespace Cairn.Node.Gateway.Pipeline;

/// <summary>
/// <see cref="PlannedPipeline"/>'s state for one model: the flexible stages it knows (profile and announced speed of each),
/// the running chain, the requests in flight on it, and the measurements that refit each device's speed: the median of
/// a device's last <see cref="Window"/> single-row step times over its range, and of the per-token time the stages do
/// not account for (the links and the gateway, spread over the hops).
/// </summary>
public sealed class ModelPlan(string name)
{
    /// <summary>Steps kept per device and range, and per-token times kept, for the medians.</summary>
    public const int Window = 16;
    /// <summary>Samples a median needs before it replaces the announced figure.</summary>
    public const int MinSamples = 8;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, (ProviderEntry Provider, ModelInfo Model, DeviceProfile Announced)> _devices = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Id, int Start, int End), Samples> _steps = [];
    private readonly Dictionary<string, double> _fitted = new(StringComparer.Ordinal);
    private readonly Samples _tokens = new(), _hops = new();
    private CostModel? _unit;
    private int _active;
    private TaskCompletionSource? _drained;

    public string Name { get; } = name;
    /// <summary>Serializes planning and the start of requests; held while a re-plan waits for requests to finish.</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);
    public ModelProfile? Profile { get; private set; }
    public IReadOnlyList<string> DeviceIds { get; private set; } = [];
    public IReadOnlyList<PipelineStage> Chain { get; private set; } = [];
    public IReadOnlyList<StageAssignment> Assignment { get; private set; } = [];
    public int Replans { get; private set; }

    /// <summary>Whether every device of the running chain has a measured speed.</summary>
    public bool Measured
    {
        get
        {
            lock (_gate) return Chain.Count > 0 && Chain.All(s => _fitted.ContainsKey(s.Provider.Id));
        }
    }

    /// <summary>The median measured per-token (single-row step) time through the chain at the gateway; null before enough samples.</summary>
    public double? MeasuredTokenSeconds
    {
        get
        {
            lock (_gate) return _tokens.Count >= MinSamples ? _tokens.Median : null;
        }
    }

    /// <summary>The median measured link latency per hop (per-token time the stages do not account for, over the stages); null before enough samples.</summary>
    public double? MeasuredLinkSeconds
    {
        get
        {
            lock (_gate) return _hops.Count >= MinSamples ? Math.Max(0, _hops.Median) : null;
        }
    }

    /// <summary>The decode speeds measured so far (cost-model bytes per second, by device id).</summary>
    public IReadOnlyDictionary<string, double> MeasuredSpeeds
    {
        get
        {
            lock (_gate) return new Dictionary<string, double>(_fitted, StringComparer.Ordinal);
        }
    }

    /// <summary>Asks every candidate for its profile (the model's cost profile, memory budget, calibrated speed).</summary>
    public async Task Refresh(IReadOnlyList<(ProviderEntry Provider, ModelInfo? Model)> candidates, CancellationToken cancel)
    {
        var replies = await Task.WhenAll(candidates.Select(async Task<(ProviderEntry Provider, ModelInfo Model, StageProfileReply? Reply)> (c) =>
        {
            try
            {
                return (c.Provider, c.Model!, Reply: await new Rpc.Stage.StageClient(c.Provider.Channel).ProfileAsync(new StageProfileRequest(),
                    deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: cancel).ResponseAsync);
            }
            catch (Grpc.Core.RpcException) when (!cancel.IsCancellationRequested)
            {
                return (c.Provider, c.Model!, Reply: null); // unreachable now: planned without it (and asked again next time)
            }
        }));
        lock (_gate)
        {
            _devices.Clear();
            foreach (var (provider, model, reply) in replies)
            {
                if (reply is null) continue;
                Profile ??= ToProfile(reply.Model);
                _devices[provider.Id] = (provider, model, new DeviceProfile(provider.Id, reply.MemoryBudget > 0 ? reply.MemoryBudget : long.MaxValue / 4,
                    reply.DecodeBytesPerSecond, reply.PrefillFlopsPerSecond, 0, LinkBandwidth));
            }
            DeviceIds = [.. _devices.Keys.Order(StringComparer.Ordinal)];
            _unit ??= new CostModel(Profile!, [new DeviceProfile("unit", long.MaxValue, 1, 1, 0, 1e300)], Profile!.ContextLength);
        }
    }

    /// <summary>Bytes per second of a link between stages on this gateway (loopback or a LAN; the activation is a few KB).</summary>
    public const double LinkBandwidth = 1e9;

    /// <summary>The devices as the planner sees them now: measured speeds where known, else announced; the measured link latency, else <paramref name="defaultLink"/>.</summary>
    public IReadOnlyList<DeviceProfile> Devices(double defaultLink)
    {
        lock (_gate)
        {
            double link = _hops.Count >= MinSamples ? Math.Max(0, _hops.Median) : defaultLink;
            return [.. DeviceIds.Select(id => _devices[id].Announced with
            {
                DecodeBytesPerSecond = _fitted.TryGetValue(id, out double bps) ? bps : _devices[id].Announced.DecodeBytesPerSecond,
                LinkLatencySeconds = link,
            })];
        }
    }

    /// <summary>A chain stage: the device's provider entry with its announcement's model, ranged [start, end).</summary>
    public PipelineStage Stage(string id, int start, int end)
    {
        var (provider, model, _) = _devices[id];
        var ranged = model.Clone();
        ranged.LayerStart = start;
        ranged.LayerEnd = end;
        return new PipelineStage(provider, ranged);
    }

    public void Use(Plan plan, IReadOnlyList<PipelineStage> chain)
    {
        lock (_gate)
        {
            Chain = chain;
            Assignment = plan.Assignment;
            Replans++;
            _tokens.Clear();
            _hops.Clear();
        }
    }

    /// <summary>A plan could not be applied: the next request plans afresh.</summary>
    public void Forget()
    {
        lock (_gate)
        {
            Chain = [];
            Assignment = [];
            DeviceIds = [];
        }
    }

    public string Describe() => Chain.Count == 0 ? "(none)" : string.Join(" > ", Chain);

    public void ObserveStep(PipelineStage stage, double seconds)
    {
        lock (_gate)
        {
            var key = (stage.Provider.Id, stage.Start, stage.End);
            if (!_steps.TryGetValue(key, out var samples)) _steps[key] = samples = new Samples();
            samples.Add(seconds);
            if (samples.Count >= MinSamples && _unit != null && samples.Median > 0)
                _fitted[stage.Provider.Id] = _unit.DecodeSeconds(0, stage.Start, stage.End) / samples.Median;
        }
    }

    /// <summary>
    /// One decode step through the chain. Kept only while this request is the only one in flight: with several, the wall
    /// time also holds the wait for a busy stage (an emulated device runs one step at a time), which is neither the
    /// per-token latency of one stream nor link latency.
    /// </summary>
    public void ObserveToken(double wall, double stages)
    {
        lock (_gate)
        {
            if (_active != 1) return;
            _tokens.Add(wall);
            if (Chain.Count > 1) _hops.Add((wall - stages) / Chain.Count);
        }
    }

    public PlannedPipeline.Lease Enter()
    {
        lock (_gate)
        {
            _active++;
            return new PlannedPipeline.Lease(this, Chain);
        }
    }

    public void Leave()
    {
        lock (_gate)
        {
            if (--_active == 0) _drained?.TrySetResult();
        }
    }

    /// <summary>Completes when no request holds the running chain (the caller holds <see cref="Gate"/>, so none starts).</summary>
    public Task Drain(CancellationToken cancel)
    {
        lock (_gate)
        {
            if (_active == 0) return Task.CompletedTask;
            _drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _drained.Task.WaitAsync(cancel);
        }
    }

    private static ModelProfile ToProfile(StageModelProfile p) => new()
    {
        Name = p.Name,
        Dim = p.Dim,
        ContextLength = p.ContextLength,
        FirstStageBytes = p.FirstStageBytes,
        LastStageBytes = p.LastStageBytes,
        SharedFirstLastBytes = p.SharedFirstLastBytes,
        EveryStageBytes = p.EveryStageBytes,
        FirstStageReadBytesPerToken = p.FirstStageReadBytesPerToken,
        LastStageReadBytesPerToken = p.LastStageReadBytesPerToken,
        LastStageFlopsPerToken = p.LastStageFlopsPerToken,
        Layers = [.. p.Layers.Select(l => new LayerProfile(l.WeightBytes, l.FlopsPerToken, l.AttentionFlopsPerPosition, l.KvBytesPerPosition))],
    };

    /// <summary>The last <see cref="Window"/> values and their median.</summary>
    private sealed class Samples
    {
        private readonly Queue<double> _values = new();

        public int Count => _values.Count;

        public double Median
        {
            get
            {
                var sorted = _values.Order().ToArray();
                return sorted.Length == 0 ? 0 : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
            }
        }

        public void Add(double value)
        {
            _values.Enqueue(value);
            if (_values.Count > Window) _values.Dequeue();
        }

        public void Clear() => _values.Clear();
    }
}
