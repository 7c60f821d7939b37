using Cairn.Engine.Sampling;

namespace Cairn.Planner.Tests.TestSupport;

/// <summary>Seeded random planning instances: a few layers of uneven size, heterogeneous devices (speed, memory, links).</summary>
public static class Instances
{
    public static ModelProfile Model(int layers, Func<int, long> bytes, long kvPerPosition = 512, int dim = 256, int context = 64) => new()
    {
        Name = "synthetic",
        Layers = [.. Enumerable.Range(0, layers).Select(l => new LayerProfile(bytes(l), 2.0 * bytes(l), 4.0 * dim, kvPerPosition))],
        Dim = dim,
        ContextLength = context,
        FirstStageBytes = 50_000,
        LastStageBytes = 60_000,
        FirstStageReadBytesPerToken = 200,
        LastStageReadBytesPerToken = 60_000,
        LastStageFlopsPerToken = 120_000,
    };

    public static DeviceProfile Device(string id, long memory, double decodeBps, double latency = 0.001, double bandwidth = 1e8) =>
        new(id, memory, decodeBps, decodeBps * 10, latency, bandwidth);

    public static (ModelProfile Model, DeviceProfile[] Devices) Random(ulong seed, int maxLayers = 7, int maxDevices = 4)
    {
        var rng = new Xoshiro256StarStar(seed);
        double U() => (rng.Next() >> 11) * (1.0 / (1UL << 53));
        int Int(int lo, int hi) => lo + (int)(rng.Next() % (ulong)(hi - lo + 1));
        int layers = Int(1, maxLayers), n = Int(1, maxDevices);
        var sizes = Enumerable.Range(0, layers).Select(_ => (long)(100_000 + U() * 900_000)).ToArray();
        var model = Model(layers, l => sizes[l], kvPerPosition: Int(0, 4096), tiedShared: U() < 0.3) with { ContextLength = Int(1, 256) };
        long total = model.TotalWeightBytes + model.Layers.Sum(l => l.KvBytes(model.ContextLength));
        var devices = Enumerable.Range(0, n).Select(i => new DeviceProfile(
            $"d{i}",
            (long)(total * (0.15 + U() * 1.1)),
            1e8 * Math.Pow(100, U()),
            1e9 * Math.Pow(100, U()),
            U() < 0.2 ? 0 : U() * 0.01,
            1e6 * Math.Pow(1000, U()))).ToArray();
        return (model, devices);
    }

    private static ModelProfile Model(int layers, Func<int, long> bytes, int kvPerPosition, bool tiedShared)
    {
        var m = Model(layers, bytes, kvPerPosition);
        return tiedShared ? m with { LastStageBytes = m.LastStageBytes + m.FirstStageBytes, SharedFirstLastBytes = m.FirstStageBytes } : m;
    }
}
