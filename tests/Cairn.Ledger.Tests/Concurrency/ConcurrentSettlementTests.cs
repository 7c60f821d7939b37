using Cairn.Ledger.Accounts;
using Cairn.Ledger.Tests.TestSupport;

namespace Cairn.Ledger.Tests.Concurrency;

/// <summary>
/// Several processes (and, in one process, several threads) race to hold and settle against one client's balance in
/// one database. However they interleave, exactly as many holds succeed as the deposit covers, the rest are refused
/// with insufficient_funds, the client never goes negative, and the ledger verifies. Threads also open their stores
/// while others are writing, as a gateway starting beside running ones does.
/// </summary>
public abstract class ConcurrentSettlementTests : LedgerTestBase
{
    private const long Price = 1_000;
    private const int Affordable = 60, Processes = 4, AttemptsEach = 30; // 120 attempts for 60 affordable

    [SkippableFact]
    public void Several_processes_settling_against_one_client_never_overdraw_it()
    {
        var client = Party(1);
        Ok(Book.Deposit("deposit", client, Affordable * Price, Auth("deposit")));
        string[] target = Backend.CliArguments;
        var workers = Enumerable.Range(0, Processes)
            .Select(w => ChildProcess.Start("race", target[0], target[1], $"p{w}", AttemptsEach.ToString(), Price.ToString()))
            .ToList();
        var outputs = workers.Select(p => p.StandardOutput.ReadToEndAsync()).ToList();
        var errors = workers.Select(p => p.StandardError.ReadToEndAsync()).ToList();
        foreach (var p in workers)
        {
            Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)), "a racing worker hung");
            Assert.True(p.ExitCode == 0, errors[workers.IndexOf(p)].Result);
            p.Dispose();
        }
        var lines = outputs.SelectMany(o => o.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.Equal(Processes * AttemptsEach, lines.Count);
        Assert.Equal(Affordable, lines.Count(l => l.StartsWith("settled ", StringComparison.Ordinal)));
        Assert.All(lines.Where(l => !l.StartsWith("settled ", StringComparison.Ordinal)), l => Assert.Equal($"refused {LedgerErrors.InsufficientFunds}", l));
        Assert.Equal(0, Book.Balance(Account.Client(client)));
        Assert.Equal(Affordable * Price * 8_000 / 10_000, Book.Balance(Account.ProviderEarnings(Party(2))));
        AssertConsistent();
    }

    [SkippableFact]
    public void Several_threads_holding_at_once_never_overdraw_one_client()
    {
        var client = Party(1);
        Ok(Book.Deposit("deposit", client, 25 * Price, Auth("deposit")));
        using var go = new ManualResetEventSlim();
        int held = 0, refused = 0;
        var threads = Enumerable.Range(0, 8).Select(t => new Thread(() =>
        {
            go.Wait();
            using var store = Backend.Open(); // opening (schema check) while others already write: must not deadlock
            var book = new LedgerBook(store, Options);
            for (int i = 0; i < 10; i++)
            {
                var r = book.Hold($"t{t}-{i}", client, Price, Auth($"t{t}-{i}"));
                if (r.IsOk) Interlocked.Increment(ref held);
                else if (r.Code == LedgerErrors.InsufficientFunds) Interlocked.Increment(ref refused);
                else throw new InvalidOperationException(r.ToString());
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        go.Set();
        threads.ForEach(t => t.Join());
        Assert.Equal(25, held);
        Assert.Equal(55, refused);
        Assert.Equal(0, Book.Balance(Account.Client(client)));
        AssertConsistent();
    }
}

public sealed class SqliteConcurrentSettlementTests : ConcurrentSettlementTests
{
    protected override LedgerBackend CreateBackend() => LedgerBackend.Sqlite();
}

public sealed class PostgresConcurrentSettlementTests : ConcurrentSettlementTests
{
    protected override LedgerBackend CreateBackend() => LedgerBackend.Postgres();
}
