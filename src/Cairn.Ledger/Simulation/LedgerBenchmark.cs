using System.Diagnostics;
using Cairn.Ledger.Economics;
using Cairn.Ledger.Storage;
using Cairn.Protocol.Crypto;

namespace Cairn.Ledger.Simulation;

/// <summary>
/// Settlement throughput (<c>cairn ledger bench</c>): <paramref name="threads"/> writers each run hold → settle pairs for
/// their own clients against one store, the way a gateway does per request. One settlement = two committed
/// transactions (the hold and the settle). A stopwatch measure, not a timed test.
/// </summary>
public static class LedgerBenchmark
{
    public readonly record struct Figures(int Settlements, int Threads, TimeSpan Elapsed)
    {
        public double PerSecond => Settlements / Elapsed.TotalSeconds;
    }

    public static Figures Run(ILedgerStore store, int settlements, int threads, string runId)
    {
        var ledger = new LedgerBook(store, new LedgerOptions());
        var parties = new SettlementParties(LedgerWorkload.Party(9000), LedgerWorkload.Party(9001), [LedgerWorkload.Party(9002)]);
        for (int t = 0; t < threads; t++)
        {
            var r = ledger.Deposit($"bench-{runId}-deposit-{t}", LedgerWorkload.Party(10_000 + t), 1_000L * settlements, Hash256.Zero);
            if (!r.IsOk) throw new InvalidOperationException($"bench deposit failed: {r}");
        }
        var clock = Stopwatch.StartNew();
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            var client = LedgerWorkload.Party(10_000 + t);
            for (int i = t; i < settlements; i += threads)
            {
                string hold = $"bench-{runId}-{i}";
                var auth = Keccak256.Hash(System.Text.Encoding.ASCII.GetBytes(hold));
                var held = ledger.Hold(hold, client, 1_000, auth);
                var settled = ledger.Settle(hold, 737, parties, auth);
                if (!held.IsOk || !settled.IsOk) throw new InvalidOperationException($"bench settlement {i} failed: {held} / {settled}");
            }
        });
        return new Figures(settlements, threads, clock.Elapsed);
    }
}
