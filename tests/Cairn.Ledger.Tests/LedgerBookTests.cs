using Cairn.Ledger.Accounts;
using Cairn.Ledger.Economics;
using Cairn.Ledger.Tests.TestSupport;
using Cairn.Protocol.Crypto;

namespace Cairn.Ledger.Tests;

/// <summary>The ledger's operations and their errors; runs on SQLite and on PostgreSQL (the subclasses at the bottom).</summary>
public abstract class LedgerBookTests : LedgerTestBase
{
    private static readonly Cairn.Protocol.Identity.Address Client = Party(1), Provider = Party(2), Owner = Party(3), AuthorA = Party(4), AuthorB = Party(5);

    [SkippableFact]
    public void A_settlement_splits_the_fee_by_basis_points_and_returns_the_unused_hold()
    {
        var book = Book;
        Ok(book.Deposit("d1", Client, 100_000, Auth("deposit")));
        Ok(book.Hold("req1", Client, 10_000, Auth("request")));
        Assert.Equal(90_000, book.Balance(Account.Client(Client)));
        Assert.Equal(10_000, book.Balance(Account.Hold("req1")));

        var receipt = Auth("receipt");
        Ok(book.Settle("req1", 8_000, new SettlementParties(Provider, Owner, [AuthorA, AuthorB]), receipt));

        Assert.Equal(92_000, book.Balance(Account.Client(Client)));
        Assert.Equal(0, book.Balance(Account.Hold("req1")));
        Assert.Equal(6_400, book.Balance(Account.ProviderEarnings(Provider)));     // 80%
        Assert.Equal(400, book.Balance(Account.Royalty(Owner)));                 // 5%
        Assert.Equal(200, book.Balance(Account.Royalty(AuthorA)));               // 5% / 2
        Assert.Equal(200, book.Balance(Account.Royalty(AuthorB)));
        Assert.Equal(400, book.Balance(Account.ValidatorPool));
        Assert.Equal(400, book.Balance(Account.Treasury));
        Assert.Equal(receipt, Store.ReadJournal().Single(e => e.Id == "settle/req1").Authorization);
        AssertConsistent();
    }

    [SkippableTheory]
    [InlineData(8_000L)]
    [InlineData(7L)]
    [InlineData(9_999L)]
    [InlineData(long.MaxValue / 2)]
    public void A_pipeline_settlement_splits_the_provider_share_by_layers_served_and_each_stage_s_statement_shows_it(long fee)
    {
        var book = Book;
        Cairn.Protocol.Identity.Address first = Party(20), middle = Party(21), last = Party(22);
        Ok(book.Deposit("d", Client, fee, Auth("d")));
        Ok(book.Hold("p", Client, fee, Auth("p")));
        var receipt = Auth("pipeline receipt");
        var parties = new SettlementParties(last, Owner) { Stages = [new StageShare(first, 3), new StageShare(middle, 2), new StageShare(last, 3)] };
        Ok(book.Settle("p", fee, parties, receipt));

        long provider = (long)((Int128)fee * 8_000 / 10_000), a = (long)((Int128)provider * 3 / 8), b = (long)((Int128)provider * 2 / 8);
        Assert.Equal([a, b, provider - a - b], new[] { first, middle, last }.Select(s => book.Balance(Account.ProviderEarnings(s))));
        Assert.Equal((long)((Int128)fee * 500 / 10_000), book.Balance(Account.Royalty(Owner)));
        var settle = Store.ReadJournal().Single(e => e.Id == "settle/p");
        Assert.Equal(fee, settle.Postings.Where(p => p.Amount > 0).Aggregate(Int128.Zero, (s, p) => s + p.Amount));
        foreach (var (stage, amount) in new[] { (first, a), (middle, b), (last, provider - a - b) })
        {
            if (amount == 0) continue;
            Assert.True(book.TryGetStatement(Account.ProviderEarnings(stage), 0, out var statement).IsOk);
            var line = Assert.Single(statement!.Lines);
            Assert.Equal(("settle/p", amount, receipt), (line.EntryId, line.Amount, line.Authorization));
        }
        AssertConsistent();
    }

    [SkippableFact]
    public void A_pipeline_settlement_with_a_bad_stage_list_is_refused_and_writes_nothing()
    {
        var book = Book;
        Ok(book.Deposit("d", Client, 1_000, Auth("d")));
        Ok(book.Hold("p", Client, 1_000, Auth("p")));
        var head = Store.ReadHead();
        Fails(LedgerErrors.InvalidSplit, book.Settle("p", 800, new SettlementParties(Provider) { Stages = [] }, Auth("r")));
        Fails(LedgerErrors.InvalidSplit, book.Settle("p", 800, new SettlementParties(Provider) { Stages = [new StageShare(Party(20), 0), new StageShare(Provider, 2)] }, Auth("r")));
        Fails(LedgerErrors.InvalidSplit, book.Settle("p", 800, new SettlementParties(Provider) { Stages = [new StageShare(Provider, 2), new StageShare(Party(20), 2)] }, Auth("r")));
        Assert.Equal(head, Store.ReadHead());
        Assert.Equal(1_000, book.Balance(Account.Hold("p")));
        AssertConsistent();
    }

    [SkippableTheory]
    [InlineData(1L, 3)]
    [InlineData(7L, 3)]
    [InlineData(9_999L, 7)]
    [InlineData(long.MaxValue / 2, 3)]
    public void Rounding_remainders_go_to_the_treasury_so_the_shares_sum_to_the_fee(long fee, int authors)
    {
        var book = Book;
        long hold = fee + 5;
        Ok(book.Deposit("d", Client, hold, Auth("d")));
        Ok(book.Hold("h", Client, hold, Auth("h")));
        var parties = new SettlementParties(Provider, Owner, [.. Enumerable.Range(100, authors).Select(Party)]);
        Ok(book.Settle("h", fee, parties, Auth("r"), new FeeSplit(7_001, 999, 1_000, 1_000, 0)));
        var settle = Store.ReadJournal().Single(e => e.Id == "settle/h");
        Assert.Equal(fee, settle.Postings.Where(p => p.Account != Account.Hold("h") && p.Account != Account.Client(Client)).Aggregate(Int128.Zero, (s, p) => s + p.Amount));
        Assert.All(settle.Postings, p => Assert.NotEqual(0, p.Amount));
        Assert.Equal(5, book.Balance(Account.Client(Client)));
        long provider = (long)((Int128)fee * 7_001 / 10_000);
        Assert.Equal(provider, book.Balance(Account.ProviderEarnings(Provider)));
        AssertConsistent();
    }

    [SkippableFact]
    public void A_hold_beyond_the_available_balance_fails_and_writes_nothing()
    {
        var book = Book;
        Ok(book.Deposit("d1", Client, 5_000, Auth("d")));
        Ok(book.Hold("a", Client, 4_000, Auth("a")));
        var head = Store.ReadHead();
        Fails(LedgerErrors.InsufficientFunds, book.Hold("b", Client, 1_001, Auth("b")));
        Assert.Equal(head, Store.ReadHead());
        Assert.Equal(1_000, book.Balance(Account.Client(Client)));
        Ok(book.Hold("b", Client, 1_000, Auth("b")));
        Assert.Equal(0, book.Balance(Account.Client(Client)));
        AssertConsistent();
    }

    [SkippableFact]
    public void Reapplying_an_id_with_the_same_content_is_a_no_op_and_with_other_content_an_error()
    {
        var book = Book;
        var first = book.Deposit("d1", Client, 5_000, Auth("d"));
        Ok(first);
        Ok(book.Hold("h", Client, 1_000, Auth("h")));
        Ok(book.Settle("h", 600, new SettlementParties(Provider), Auth("r")));
        var head = Store.ReadHead();

        var again = book.Deposit("d1", Client, 5_000, Auth("d"));
        Assert.True(again.IsOk && again.Replayed);
        Assert.Equal(first.Sequence, again.Sequence);
        Assert.True(book.Hold("h", Client, 1_000, Auth("h")) is { IsOk: true, Replayed: true });
        Assert.True(book.Settle("h", 600, new SettlementParties(Provider), Auth("r")) is { IsOk: true, Replayed: true });

        Fails(LedgerErrors.DuplicateIdConflict, book.Deposit("d1", Client, 5_001, Auth("d")));
        Fails(LedgerErrors.DuplicateIdConflict, book.Deposit("d1", Client, 5_000, Auth("other")));
        Fails(LedgerErrors.DuplicateIdConflict, book.Settle("h", 700, new SettlementParties(Provider), Auth("r")));
        Fails(LedgerErrors.HoldClosed, book.Release("h", Auth("x")));
        Assert.Equal(head, Store.ReadHead());
        Assert.Equal(4_400, book.Balance(Account.Client(Client)));
        AssertConsistent();
    }

    [SkippableFact]
    public void Bad_input_is_a_clear_error_and_writes_nothing()
    {
        var book = Book;
        Ok(book.Deposit("d1", Client, 5_000, Auth("d")));
        Ok(book.Deposit("big", Party(9), long.MaxValue - 5_000, Auth("big")));  // external is now at -long.MaxValue
        var head = Store.ReadHead();
        var balances = Store.ReadBalances();

        Fails(LedgerErrors.UnknownAccount, book.Hold("h1", Party(77), 10, Auth("h")));           // never deposited
        Fails(LedgerErrors.InvalidAmount, book.Deposit("d2", Client, -5, Auth("d")));
        Fails(LedgerErrors.InvalidAmount, book.Deposit("d2", Client, 0, Auth("d")));
        Fails(LedgerErrors.InvalidAmount, book.Hold("h1", Client, -1, Auth("h")));
        Fails(LedgerErrors.InvalidAmount, book.Settle("h1", -1, new SettlementParties(Provider), Auth("r")));
        Fails(LedgerErrors.AmountOverflow, book.Deposit("d3", Party(9), 5_001, Auth("d")));        // past the 64-bit range
        Fails(LedgerErrors.UnknownHold, book.Settle("nope", 1, new SettlementParties(Provider), Auth("r")));
        Fails(LedgerErrors.UnknownHold, book.Release("nope", Auth("r")));
        Fails(LedgerErrors.InvalidId, book.Deposit("", Client, 1, Auth("d")));
        Fails(LedgerErrors.InvalidId, book.Hold("has space", Client, 1, Auth("d")));
        Fails(LedgerErrors.InvalidAccount, book.Payout("p", "earnings:0x12", 1, Auth("p")));
        Fails(LedgerErrors.WrongAccountKind, book.Payout("p", Account.Client(Client), 1, Auth("p")));
        Fails(LedgerErrors.UnknownAccount, book.Payout("p", Account.ProviderEarnings(Provider), 1, Auth("p")));
        Fails(LedgerErrors.InvalidSplit, book.Settle("h1", 1, new SettlementParties(Provider), Auth("r"), new FeeSplit(5_000, 0, 0, 0, 4_999)));
        Fails(LedgerErrors.UnknownAccount, book.Slash("s", Provider, 10, Auth("evidence"), null));
        Fails(LedgerErrors.UnknownAccount, book.TryGetBalance(Account.Royalty(Owner), out _));
        Fails(LedgerErrors.InvalidAccount, book.TryGetBalance("client:0xnothex", out _));
        Ok(book.Hold("h1", Client, 1_000, Auth("h")));
        Fails(LedgerErrors.FeeExceedsHold, book.Settle("h1", 1_001, new SettlementParties(Provider), Auth("r")));
        Fails(LedgerErrors.DuplicateIdConflict, book.Hold("h1", Client, 999, Auth("h")));

        Assert.Equal(head.Sequence + 1, Store.ReadHead().Sequence);                       // only the good hold
        Assert.Equal(balances.Single(b => b.Account == Account.Client(Client)).Balance - 1_000, book.Balance(Account.Client(Client)));
        AssertConsistent();
    }

    [SkippableFact]
    public void Unbonded_stake_can_be_withdrawn_only_after_the_delay()
    {
        var book = Book;
        Ok(book.Deposit("d", Provider, 50_000, Auth("d")));
        Ok(book.Bond("b", Provider, 20_000, Auth("b")));
        Assert.True(book.IsEligible(Provider));
        Ok(book.Unbond("u", Provider, 15_000, Auth("u")));                               // unlocks in epoch 0 + 2
        Assert.False(book.IsEligible(Provider));                                          // 5,000 < 10,000
        Fails(LedgerErrors.UnbondingNotMatured, book.WithdrawStake("w", Provider, 1, Auth("w")));
        Ok(book.CloseEpoch(0, out _));
        Fails(LedgerErrors.UnbondingNotMatured, book.WithdrawStake("w", Provider, 1, Auth("w")));
        Ok(book.CloseEpoch(1, out _));
        Fails(LedgerErrors.UnbondingNotMatured, book.WithdrawStake("w", Provider, 15_001, Auth("w")));
        Ok(book.WithdrawStake("w", Provider, 15_000, Auth("w")));
        Assert.Equal(45_000, book.Balance(Account.Client(Provider)));
        Assert.Equal(0, book.Balance(Account.ProviderUnbonding(Provider)));
        AssertConsistent();
    }

    [SkippableFact]
    public void A_slash_pays_the_winner_burns_the_rest_references_its_evidence_and_can_end_eligibility()
    {
        var book = Book;
        Ok(book.Deposit("d", Provider, 20_000, Auth("d")));
        Ok(book.Bond("b", Provider, 12_000, Auth("b")));
        Assert.True(book.IsEligible(Provider));
        var evidence = Auth("verdict: provider lied at layer 7");
        Ok(book.Slash("slash-1", Provider, 3_001, evidence, Party(50)));
        Assert.False(book.IsEligible(Provider));
        Assert.Equal(8_999, book.Balance(Account.ProviderStake(Provider)));
        Assert.Equal(1_500, book.Balance(Account.ProviderEarnings(Party(50))));   // ⌊3,001 × 50%⌋
        Assert.Equal(1_501, book.Balance(Account.Burn));
        Assert.Equal(evidence, Store.ReadJournal().Single(e => e.Id == "slash-1").Authorization);
        Fails(LedgerErrors.InsufficientBalance, book.Slash("slash-2", Provider, 9_000, evidence, null));
        AssertConsistent();
    }

    [SkippableFact]
    public void A_validator_is_rewarded_from_the_validator_pool_and_never_beyond_it()
    {
        var book = Book;
        Ok(book.Deposit("d", Client, 100_000, Auth("d")));
        Ok(book.Hold("h1", Client, 10_000, Auth("h1")));
        Ok(book.Settle("h1", 10_000, new SettlementParties(Provider), Auth("r1")));       // validator pool 500
        var challenge = Auth("challenge");
        Ok(book.RewardValidator("reward-1", Party(60), 300, challenge));
        Assert.Equal(200, book.Balance(Account.ValidatorPool));
        Assert.Equal(300, book.Balance(Account.ProviderEarnings(Party(60))));
        Assert.Equal(challenge, Store.ReadJournal().Single(e => e.Id == "reward-1").Authorization);
        Fails(LedgerErrors.InsufficientBalance, book.RewardValidator("reward-2", Party(60), 201, challenge));
        Fails(LedgerErrors.InvalidAmount, book.RewardValidator("reward-3", Party(60), 0, challenge));
        AssertConsistent();
    }

    [SkippableFact]
    public void Closing_an_epoch_pays_out_balances_above_the_threshold_and_records_the_Merkle_root()
    {
        var book = Book;
        Ok(book.Deposit("d", Client, 100_000, Auth("d")));
        Ok(book.Hold("h1", Client, 10_000, Auth("h1")));
        Ok(book.Settle("h1", 10_000, new SettlementParties(Provider, Owner), Auth("r1")));   // provider 8,000; owner 500
        var hashesBefore = Store.ReadJournal().Select(e => e.Hash).ToList();

        Ok(book.CloseEpoch(0, out var root));
        var journal = Store.ReadJournal().ToList();
        var payout = journal.Single(e => e.Id == $"epoch/0/payout/{Account.ProviderEarnings(Provider)}");
        Assert.Equal(0, book.Balance(Account.ProviderEarnings(Provider)));
        Assert.Equal(500, book.Balance(Account.Royalty(Owner)));                        // below the 1,000 threshold: stays
        Assert.Equal(Cairn.Ledger.Journal.MerkleRoot.Compute([.. hashesBefore, payout.Hash]), root);
        Assert.Equal(root, Store.ReadEpochs().Single().Root);
        Assert.Equal(1, book.OpenEpoch);

        Assert.True(book.CloseEpoch(0, out var again) is { IsOk: true, Replayed: true });
        Assert.Equal(root, again);
        Fails(LedgerErrors.EpochNotOpen, book.CloseEpoch(5, out _));

        Ok(book.Hold("h2", Client, 1_000, Auth("h2")));
        Assert.True(book.TryGetStatement(Account.Client(Client), 1, out var statement).IsOk);
        Assert.Equal(90_000, statement!.Opening);
        Assert.Equal(89_000, statement.Closing);
        Assert.Equal("hold/h2", Assert.Single(statement.Lines).EntryId);
        Assert.True(book.TryGetStatement(Account.Client(Client), 0, out var first).IsOk);
        Assert.Equal(["d", "hold/h1"], first!.Lines.Select(l => l.EntryId));   // the whole hold was the fee: nothing came back
        Assert.True(first.EpochClosed);
        AssertConsistent();
    }

    [SkippableFact]
    public void A_reopened_store_continues_the_same_chain()
    {
        Ok(Book.Deposit("d", Client, 1_000, Auth("d")));
        var head = Store.ReadHead();
        using (var reopened = Backend.Open())
        {
            Assert.Equal(head, reopened.ReadHead());
            Ok(new LedgerBook(reopened, Options).Hold("h", Client, 10, Auth("h")));
        }
        Assert.Equal(head.Sequence + 1, Store.ReadHead().Sequence);
        AssertConsistent();
    }
}

public sealed class SqliteLedgerBookTests : LedgerBookTests
{
    protected override LedgerBackend CreateBackend() => LedgerBackend.Sqlite();
}

public sealed class PostgresLedgerBookTests : LedgerBookTests
{
    protected override LedgerBackend CreateBackend() => LedgerBackend.Postgres();
}
