namespace Cairn.Node.Gateway.Dashboard;

/// <summary>
/// Balances over time for the dashboard's charts: every <see cref="Interval"/> the <see cref="BalanceSampler"/> reads
/// each provider's stake and earnings, each API client's balance and the pools, and appends one sample to a ring of
/// <see cref="Capacity"/> (at the defaults, the last 15 minutes). In memory only: the ledger is the record.
/// </summary>
public sealed class BalanceHistory
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    public const int Capacity = 900;

    private readonly Queue<BalanceSample> _samples = new();
    private readonly Lock _gate = new();

    public void Add(BalanceSample sample)
    {
        lock (_gate)
        {
            _samples.Enqueue(sample);
            while (_samples.Count > Capacity) _samples.Dequeue();
        }
    }

    public BalanceSample[] All()
    {
        lock (_gate) return [.. _samples];
    }
}

/// <summary>One reading of the ledger: account name → balance (micro-units), plus each provider's served count.</summary>
public sealed record BalanceSample(DateTimeOffset At, Dictionary<string, long> Balances, Dictionary<string, long> Served);
