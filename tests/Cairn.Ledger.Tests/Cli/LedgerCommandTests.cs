using Cairn.Ledger.Accounts;
using Cairn.Ledger.Storage;
using Cairn.Ledger.Tests.TestSupport;
using Cairn.Protocol.Crypto;

namespace Cairn.Ledger.Tests.Cli;

/// <summary><c>cairn ledger verify</c> and <c>statement</c> as a user runs them (the real command tree in a child process).</summary>
public sealed class LedgerCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-ledger-cli-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private static Hash256 Auth(string s) => Keccak256.Hash(System.Text.Encoding.UTF8.GetBytes(s));

    [Fact]
    public void Verify_reads_the_ledger_of_a_devnet_data_folder()
    {
        var client = Simulation.LedgerWorkload.Party(1);
        using (var store = SqliteLedgerStore.OpenInDirectory(Path.Combine(_dir, "gateway")))
        {
            var book = new LedgerBook(store);
            Assert.True(book.Deposit("d", client, 5_000, Auth("d")).IsOk);
            Assert.True(book.Hold("h", client, 1_000, Auth("h")).IsOk);
        }
        var result = ChildProcess.Run("ledger", "verify", "--data", _dir);
        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("2 entries", result.StdOut);
    }

    [Fact]
    public void Audit_reruns_the_draws_of_revealed_epochs_and_exits_1_when_one_was_spared()
    {
        var provider = Simulation.LedgerWorkload.Party(2);
        var client = Simulation.LedgerWorkload.Party(1);
        var secret = Auth("epoch secret");
        var rate = Cairn.Protocol.Sampling.Probability.Parse("50%");
        var drawn = new List<Hash256>();
        using (var store = SqliteLedgerStore.OpenInDirectory(Path.Combine(_dir, "gateway")))
        {
            var book = new LedgerBook(store);
            Assert.True(book.CommitEpochSecret(0, Cairn.Protocol.Sampling.ChallengeDraw.Commit(secret.ToArray()), rate).IsOk);
            Assert.True(book.Deposit("d", client, 100_000, Auth("d")).IsOk);
            for (int i = 0; i < 12; i++)
            {
                var receipt = Auth("receipt " + i);
                Assert.True(book.Hold("h" + i, client, 10, Auth("h" + i)).IsOk);
                Assert.True(book.Settle("h" + i, 10, new Economics.SettlementParties(provider), receipt).IsOk);
                if (Cairn.Protocol.Sampling.ChallengeDraw.IsChallenged(secret.ToArray(), receipt, rate)) drawn.Add(receipt);
            }
            Assert.True(drawn.Count >= 2, "the fixed secret must draw at least two of twelve receipts");
            foreach (var r in drawn.Skip(1)) Assert.True(book.RecordChallengeDrawn(r, 0, provider).IsOk);
            Assert.True(book.CloseEpoch(0, out _).IsOk);
            Assert.True(book.RevealEpochSecret(0, secret).IsOk);
        }
        var unfair = ChildProcess.Run("ledger", "audit", "--data", _dir);
        Assert.True(unfair.ExitCode == 1, unfair.StdOut + unfair.StdErr);
        Assert.Contains($"UNFAIR epoch 0 receipt {drawn[0]}: drawn by the epoch's secret but never challenged", unfair.StdOut);
        Assert.Contains($"{drawn.Count} drawn for a challenge, 1 discrepancies", unfair.StdOut);

        using (var store = SqliteLedgerStore.OpenExisting(Path.Combine(_dir, "gateway", SqliteLedgerStore.FileName)))
            Assert.True(new LedgerBook(store).RecordChallengeDrawn(drawn[0], 0, provider).IsOk);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var fair = ChildProcess.Run("ledger", "audit", "--data", _dir);
        Assert.True(fair.ExitCode == 0, fair.StdOut + fair.StdErr);
        Assert.Contains("the draws were fair", fair.StdOut);
        Assert.Contains("challenge rate 50%", fair.StdOut);
    }

    [Fact]
    public void Statement_lists_every_entry_behind_the_balance_of_one_epoch()
    {
        string file = Path.Combine(_dir, "ledger.db");
        var client = Simulation.LedgerWorkload.Party(1);
        using (var store = new SqliteLedgerStore(file))
        {
            var book = new LedgerBook(store);
            Assert.True(book.Deposit("d", client, 5_000, Auth("d")).IsOk);
            Assert.True(book.CloseEpoch(0, out _).IsOk);
            Assert.True(book.Hold("h", client, 1_000, Auth("h")).IsOk);
            Assert.True(book.Release("h", Auth("r")).IsOk);
        }
        var result = ChildProcess.Run("ledger", "statement", Account.Client(client).ToLowerInvariant(), "--epoch", "1", "--sqlite", file);
        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains($"account {Account.Client(client)}  epoch 1 (open)", result.StdOut);
        Assert.Contains("opening balance 5000", result.StdOut);
        Assert.Contains("hold/h", result.StdOut);
        Assert.Contains("release/h", result.StdOut);
        Assert.Contains("closing balance 5000  (2 entries)", result.StdOut);
        Assert.DoesNotContain("deposit", result.StdOut.Split('\n').Skip(3).First(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Bad_arguments_are_one_clear_line_and_exit_code_2()
    {
        string file = Path.Combine(_dir, "ledger.db");
        using (var store = new SqliteLedgerStore(file)) { }
        var missing = ChildProcess.Run("ledger", "verify", "--sqlite", Path.Combine(_dir, "nope.db"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("no ledger at", missing.StdErr);
        Assert.False(File.Exists(Path.Combine(_dir, "nope.db")));
        var two = ChildProcess.Run("ledger", "verify", "--sqlite", file, "--data", _dir);
        Assert.Equal(2, two.ExitCode);
        Assert.Contains("exactly one", two.StdErr);
        var unknown = ChildProcess.Run("ledger", "statement", "treasury", "--epoch", "0", "--sqlite", file);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains(LedgerErrors.UnknownAccount, unknown.StdErr);
        var invalid = ChildProcess.Run("ledger", "statement", "wallet:1", "--epoch", "0", "--sqlite", file);
        Assert.Equal(2, invalid.ExitCode);
        Assert.Contains(LedgerErrors.InvalidAccount, invalid.StdErr);
    }
}
