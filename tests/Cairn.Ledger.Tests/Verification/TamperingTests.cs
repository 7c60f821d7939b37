using Cairn.Ledger.Simulation;
using Cairn.Ledger.Tests.TestSupport;

namespace Cairn.Ledger.Tests.Verification;

/// <summary>
/// Edits the database behind the ledger's back — an entry's fields, a posting, a deleted row, the projections — and
/// checks that <c>cairn ledger verify</c> (the real command, in a child process) exits 1 naming the inconsistency.
/// </summary>
public abstract class TamperingTests : LedgerTestBase
{
    private void BuildJournal()
    {
        var book = Book;
        var workload = new LedgerWorkload(seed: 11);
        for (int i = 0; i < 150; i++) workload.Apply(book, i);
        Ok(book.Deposit("tail-deposit", Party(1), 10_000, Auth("t")));
        Ok(book.Hold("tail-hold", Party(1), 500, Auth("t")));
        Ok(book.Settle("tail-hold", 400, new Economics.SettlementParties(Party(2)), Auth("t")));
        Assert.True(book.CloseEpoch(book.OpenEpoch, out _).IsOk);
        Assert.True(Store.ReadHead().Sequence > 20);
    }

    [SkippableFact]
    public void An_untouched_ledger_verifies()
    {
        BuildJournal();
        var result = ChildProcess.Run(["ledger", "verify", .. Backend.CliArguments]);
        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("consistent", result.StdOut);
    }

    [SkippableTheory]
    [InlineData("UPDATE ledger_postings SET amount = amount + 1 WHERE seq = 3 AND idx = 0", "#3")]
    [InlineData("UPDATE ledger_postings SET account = 'treasury' WHERE seq = 4 AND idx = 1", "#4")]
    [InlineData("UPDATE ledger_entries SET kind = 2 WHERE seq = 2", "#2")]
    [InlineData("UPDATE ledger_entries SET authorizing = prev_hash WHERE seq = 5", "#5")]
    [InlineData("UPDATE ledger_entries SET subject = 'someone else' WHERE seq = 6", "#6")]
    [InlineData("UPDATE ledger_entries SET id = 'renamed' WHERE seq = 7", "#7")]
    [InlineData("UPDATE ledger_entries SET unlock_epoch = 99 WHERE seq = 8", "#8")]
    [InlineData("UPDATE ledger_entries SET epoch = epoch + 1 WHERE seq = 9", "#9")]
    [InlineData("UPDATE ledger_entries SET hash = prev_hash WHERE seq = 10", "#10")]
    [InlineData("DELETE FROM ledger_entries WHERE seq = 11", "#12")]
    [InlineData("DELETE FROM ledger_postings WHERE seq = 12 AND idx = 1", "#12")]
    [InlineData("INSERT INTO ledger_postings (seq, idx, account, amount) VALUES (13, 9, 'burn', 1)", "#13")]
    [InlineData("UPDATE ledger_balances SET balance = balance + 1 WHERE account = 'treasury'", "treasury")]
    [InlineData("DELETE FROM ledger_balances WHERE account = 'external'", "external")]
    [InlineData("UPDATE ledger_holds SET amount = amount - 1 WHERE hold_id = 'tail-hold'", "tail-hold")]
    [InlineData("UPDATE ledger_holds SET closed_seq = NULL WHERE hold_id = 'tail-hold'", "tail-hold")]
    [InlineData("UPDATE ledger_epochs SET root = (SELECT hash FROM ledger_entries WHERE seq = 1)", "epoch")]
    [InlineData("UPDATE ledger_head SET seq = seq - 1", "head")]
    [InlineData("DELETE FROM ledger_entries WHERE seq = (SELECT MAX(seq) FROM ledger_entries)", "head")]
    public void Any_edit_of_the_stored_ledger_is_detected_by_verify(string sql, string named)
    {
        BuildJournal();
        Assert.True(Backend.ExecuteRaw(sql) > 0, $"the tampering statement changed nothing: {sql}");
        var result = ChildProcess.Run(["ledger", "verify", .. Backend.CliArguments]);
        Assert.True(result.ExitCode == 1, $"exit {result.ExitCode} after {sql}\n{result.StdOut}{result.StdErr}");
        Assert.Contains("inconsistent", result.StdErr);
        Assert.Contains(named, result.StdErr);
    }
}

public sealed class SqliteTamperingTests : TamperingTests
{
    protected override LedgerBackend CreateBackend() => LedgerBackend.Sqlite();
}

public sealed class PostgresTamperingTests : TamperingTests
{
    protected override LedgerBackend CreateBackend() => LedgerBackend.Postgres();
}
