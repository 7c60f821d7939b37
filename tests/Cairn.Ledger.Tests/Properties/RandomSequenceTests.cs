using Cairn.Ledger.Accounts;
using Cairn.Ledger.Simulation;
using Cairn.Ledger.Tests.TestSupport;

namespace Cairn.Ledger.Tests.Properties;

/// <summary>
/// Seeded random sequences of deposits, holds, settlements, releases, bonds, unbonds, stake withdrawals, slashes,
/// payouts, withdrawals and epoch closes (<see cref="LedgerWorkload"/>): after every operation no account but
/// <c>external</c> is negative and all balances sum to zero; a failed operation is an expected error code and wrote
/// nothing; open holds hold exactly what the hold accounts do; and the verifier passes at the end.
/// </summary>
public abstract class RandomSequenceTests : LedgerTestBase
{
    private static readonly HashSet<string> ExpectedFailures =
    [
        LedgerErrors.InsufficientFunds, LedgerErrors.InsufficientBalance, LedgerErrors.UnknownAccount, LedgerErrors.UnknownHold,
        LedgerErrors.HoldClosed, LedgerErrors.FeeExceedsHold, LedgerErrors.UnbondingNotMatured,
        LedgerErrors.DuplicateIdConflict, // a second settlement of one hold with another fee
    ];

    protected abstract int Operations { get; }

    [SkippableTheory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Random_operations_never_make_a_balance_negative_always_sum_to_zero_and_verify(int seed)
    {
        var book = Book;
        var workload = new LedgerWorkload(seed);
        var failures = new Dictionary<string, int>();
        int applied = 0;
        for (int i = 0; i < Operations; i++)
        {
            var before = Store.ReadHead();
            var (id, result) = workload.Apply(book, i);
            if (result.IsOk)
            {
                applied++;
                Assert.False(result.Replayed, $"operation {i} ({id}) was a replay");
                Assert.True(Store.ReadHead().Sequence > before.Sequence); // an epoch close also writes its payouts
            }
            else
            {
                Assert.True(ExpectedFailures.Contains(result.Code), $"operation {i} ({id}): unexpected {result}");
                Assert.Equal(before, Store.ReadHead());
                failures[result.Code] = failures.GetValueOrDefault(result.Code) + 1;
            }
            if (i % 25 == 0 || i == Operations - 1) AssertBalanceInvariants();
        }
        Assert.True(applied > Operations / 3, $"only {applied} of {Operations} operations applied");
        Assert.True(failures.Count >= 3, "the workload should exercise several refusals: " + string.Join(", ", failures));
        AssertConsistent();
    }

    private void AssertBalanceInvariants()
    {
        var balances = Store.ReadBalances();
        Int128 sum = 0;
        foreach (var b in balances)
        {
            sum += b.Balance;
            if (b.Account != Account.External) Assert.True(b.Balance >= 0, $"{b.Account} is {b.Balance}");
        }
        Assert.Equal(Int128.Zero, sum);
        long openHolds = Store.ReadHolds().Where(h => h.ClosedBy is null).Sum(h => h.Amount);
        Assert.Equal(openHolds, balances.Where(b => b.Account.StartsWith("hold:", StringComparison.Ordinal)).Sum(b => b.Balance));
    }
}

public sealed class SqliteRandomSequenceTests : RandomSequenceTests
{
    protected override int Operations => 1_500;
    protected override LedgerBackend CreateBackend() => LedgerBackend.Sqlite();
}

public sealed class PostgresRandomSequenceTests : RandomSequenceTests
{
    protected override int Operations => 1_000;
    protected override LedgerBackend CreateBackend() => LedgerBackend.Postgres();
}
