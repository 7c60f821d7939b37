using System.Diagnostics;
using Cairn.Ledger.Simulation;
using Cairn.Ledger.Storage;
using Cairn.Ledger.Tests.TestSupport;

namespace Cairn.Ledger.Tests.Crash;

/// <summary>
/// A child process (<c>cairn ledger apply-stream</c>) applies a deterministic stream of operations and prints
/// "ack ID SEQ" after each commit; it is SIGKILLed at random moments — before its first commit, or right after its
/// k-th acknowledgement while it is in the middle of the next — about 20 times, and restarted; it resumes at its last
/// written operation, which it re-applies (a no-op).
/// After every kill: the ledger verifies (balances equal the journal, the chain is whole), every acknowledged entry is
/// present at its acknowledged position, and no id appears twice. At the end the chain's head equals that of an
/// uninterrupted run: nothing was lost, nothing applied twice, nothing reordered.
/// </summary>
public abstract class CrashSafetyTests : LedgerTestBase
{
    private const int Seed = 42, Count = 500, Kills = 20;

    [SkippableFact]
    public void A_ledger_killed_at_random_moments_restarts_to_balances_that_equal_the_journal()
    {
        string[] stream = ["ledger", "apply-stream", "--seed", Seed.ToString(), "--count", Count.ToString(), .. Backend.CliArguments];
        var reference = UninterruptedHead();
        var random = new Random(Seed);
        var acknowledged = new Dictionary<string, long>();
        var budget = Stopwatch.StartNew();
        int kills = 0;
        bool finished = false;
        while (kills < Kills && budget.Elapsed < TimeSpan.FromSeconds(30) && !finished)
        {
            int killAfter = random.Next(4) == 0 ? 0 : random.Next(1, 25);
            using var child = ChildProcess.Start(stream);
            int acks = 0;
            if (killAfter == 0) child.Kill();
            string? line;
            while (!child.HasExited && (line = child.StandardOutput.ReadLine()) is not null)
            {
                if (Record(line, acknowledged, ref finished) && ++acks >= killAfter) break;
            }
            if (!child.HasExited) { child.Kill(); kills++; }
            while ((line = child.StandardOutput.ReadLine()) is not null) Record(line, acknowledged, ref finished);
            child.WaitForExit();
            AssertRecovered(acknowledged);
        }
        Assert.True(kills >= 10, $"only {kills} kills happened");

        var final = ChildProcess.Run(stream);
        Assert.True(final.ExitCode == 0, final.StdErr);
        foreach (string line in final.StdOut.Split('\n')) Record(line.TrimEnd('\r'), acknowledged, ref finished);
        Assert.True(finished);
        AssertRecovered(acknowledged);
        Assert.Equal(reference, Store.ReadHead());
    }

    private static bool Record(string line, Dictionary<string, long> acknowledged, ref bool finished)
    {
        if (line == "done") { finished = true; return false; }
        if (!line.StartsWith("ack ", StringComparison.Ordinal)) return false;
        string[] parts = line.Split(' ');
        long seq = long.Parse(parts[2]);
        if (acknowledged.TryGetValue(parts[1], out long earlier)) Assert.Equal(earlier, seq); // a replay acknowledges the original position
        acknowledged[parts[1]] = seq;
        return true;
    }

    private void AssertRecovered(Dictionary<string, long> acknowledged)
    {
        using var store = Backend.Open();
        var report = Cairn.Ledger.Verification.LedgerVerifier.Verify(store);
        Assert.True(report.IsConsistent, report.ToString());
        var journal = store.ReadJournal().ToDictionary(e => e.Id, e => e.Sequence); // throws on a duplicated id
        foreach (var (id, seq) in acknowledged)
        {
            Assert.True(journal.TryGetValue(id, out long stored), $"acknowledged entry {id} is missing after a kill");
            Assert.Equal(seq, stored);
        }
    }

    private static LedgerHead UninterruptedHead()
    {
        using var backend = LedgerBackend.Sqlite();
        using var store = backend.Open();
        var book = new LedgerBook(store);
        var workload = new LedgerWorkload(Seed);
        for (int i = 0; i < Count; i++) workload.Apply(book, i);
        return store.ReadHead();
    }
}

public sealed class SqliteCrashSafetyTests : CrashSafetyTests
{
    protected override LedgerBackend CreateBackend() => LedgerBackend.Sqlite();
}

public sealed class PostgresCrashSafetyTests : CrashSafetyTests
{
    protected override LedgerBackend CreateBackend() => LedgerBackend.Postgres();
}
