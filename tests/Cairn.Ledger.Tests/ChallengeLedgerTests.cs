using System.Security.Cryptography;
using Cairn.Ledger.Accounts;
using Cairn.Ledger.Economics;
using Cairn.Ledger.Journal;
using Cairn.Ledger.Tests.TestSupport;
using Cairn.Ledger.Verification;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Sampling;

namespace Cairn.Ledger.Tests;

/// <summary>Proof of Sampling in the journal: epoch secrets committed and revealed, draws recorded and audited, matched challenges paid.</summary>
public abstract class ChallengeLedgerTests : LedgerTestBase
{
    private static readonly Address Client = Party(1), Asserter = Party(2), ValidatorA = Party(3), ValidatorB = Party(4);
    private static readonly Probability Rate = Probability.Parse("25%");

    private static Hash256 Secret(int n) => new(SHA256.HashData(BitConverter.GetBytes(n)));

    [SkippableFact]
    public void A_secret_is_committed_in_the_open_epoch_and_revealed_only_after_it_closes()
    {
        var book = Book;
        var secret = Secret(1);
        var commitment = ChallengeDraw.Commit(secret.ToArray());
        Fails(LedgerErrors.EpochNotOpen, book.CommitEpochSecret(1, commitment, Rate));
        Ok(book.CommitEpochSecret(0, commitment, Rate));
        Assert.True(book.CommitEpochSecret(0, commitment, Rate).Replayed);
        Fails(LedgerErrors.DuplicateIdConflict, book.CommitEpochSecret(0, ChallengeDraw.Commit(Secret(2).ToArray()), Rate));

        long before = Store.ReadHead().Sequence;
        Fails(LedgerErrors.EpochNotClosed, book.RevealEpochSecret(0, secret));
        Fails(LedgerErrors.UnknownEpochSecret, book.RevealEpochSecret(5, secret));
        Ok(book.CloseEpoch(0, out _));
        Fails(LedgerErrors.RevealMismatch, book.RevealEpochSecret(0, Secret(2)));
        Assert.Equal(before + 1, Store.ReadHead().Sequence); // only the close was written
        Ok(book.RevealEpochSecret(0, secret));
        Assert.True(book.RevealEpochSecret(0, secret).Replayed);

        var record = Assert.Single(book.EpochSecrets());
        Assert.Equal((0L, commitment, Rate, (Hash256?)secret), (record.Epoch, record.Commitment, record.ChallengeRate, record.Secret));
        AssertConsistent();
    }

    [SkippableFact]
    public void The_audit_reruns_every_draw_and_names_a_spared_or_an_extra_challenge()
    {
        var book = Book;
        var secret = Secret(7);
        Ok(book.CommitEpochSecret(0, ChallengeDraw.Commit(secret.ToArray()), Rate));
        Ok(book.Deposit("d", Client, 1_000_000, Auth("d")));
        var receipts = new List<Hash256>();
        for (int i = 0; i < 40; i++)
        {
            var receipt = Auth("receipt " + i);
            receipts.Add(receipt);
            Ok(book.Hold("h" + i, Client, 100, Auth("r" + i)));
            Ok(book.Settle("h" + i, 50, new SettlementParties(Asserter), receipt));
        }
        var drawn = receipts.Where(r => ChallengeDraw.IsChallenged(secret.ToArray(), r, Rate)).ToList();
        var notDrawn = receipts.Except(drawn).ToList();
        Assert.InRange(drawn.Count, 2, 38); // 25% of 40: both kinds exist, so the audit below can fail either way
        foreach (var r in drawn.Skip(1)) Ok(book.RecordChallengeDrawn(r, 0, Asserter));

        Ok(book.CloseEpoch(0, out _));
        Fails(LedgerErrors.UnknownEpochSecret, book.RecordChallengeDrawn(Auth("x"), 1, Asserter));
        Assert.Empty(book.AuditDraws().Discrepancies); // nothing is audited before the reveal
        Ok(book.RevealEpochSecret(0, secret));

        var audit = book.AuditDraws();
        Assert.Equal(40, audit.ReceiptsChecked);
        Assert.Equal(drawn.Count, audit.Challenged);
        var spared = Assert.Single(audit.Discrepancies);
        Assert.Equal(drawn[0], spared.Receipt);
        Assert.Contains("never challenged", spared.Problem);

        // Recording the spared one and one the draw did not pick: the first problem goes, the second appears.
        Ok(book.RecordChallengeDrawn(drawn[0], 0, Asserter));
        Ok(book.RecordChallengeDrawn(notDrawn[0], 0, Asserter));
        audit = book.AuditDraws();
        var extra = Assert.Single(audit.Discrepancies);
        Assert.Equal(notDrawn[0], extra.Receipt);
        Assert.Contains("does not draw it", extra.Problem);
        AssertConsistent();
    }

    [SkippableFact]
    public void A_matched_challenge_pays_the_asserter_each_validator_and_the_client_from_the_pool()
    {
        var book = Book;
        Ok(book.Deposit("d", Client, 1_000_000, Auth("d")));
        Ok(book.Hold("h", Client, 100_000, Auth("r")));
        Ok(book.Settle("h", 100_000, new SettlementParties(Asserter), Auth("receipt"), new FeeSplit(8_000, 0, 0, 2_000, 0)));
        Assert.Equal(20_000, book.Balance(Account.ValidatorPool));
        long client = book.Balance(Account.Client(Client)), asserter = book.Balance(Account.ProviderEarnings(Asserter));

        var receipt = Auth("receipt");
        Ok(book.RewardChallenge(receipt, Asserter, [ValidatorA, ValidatorB], Client, new ChallengePayment(300, 1_001, 2, 250), out var paid));
        Assert.Equal(new ChallengePayment(300, 1_001, 2, 250), paid);
        Assert.Equal(1_001, book.Balance(Account.ProviderEarnings(ValidatorA)));
        Assert.Equal(1_001, book.Balance(Account.ProviderEarnings(ValidatorB)));
        Assert.Equal(asserter + 300, book.Balance(Account.ProviderEarnings(Asserter)));
        Assert.Equal(client + 250, book.Balance(Account.Client(Client)));
        Assert.Equal(20_000 - 2_552, book.Balance(Account.ValidatorPool));
        var entry = Store.ReadJournal().Single(e => e.Id == LedgerBook.ChallengeRewardId(receipt));
        Assert.Equal(EntryKind.ChallengeReward, entry.Kind);

        // Idempotent: the same challenge is paid once, and a replay reports what was paid.
        var again = book.RewardChallenge(receipt, Asserter, [ValidatorA, ValidatorB], Client, new ChallengePayment(300, 1_001, 2, 250), out var replayed);
        Assert.True(again.Replayed);
        Assert.Equal(paid, replayed);
        AssertConsistent();
    }

    [SkippableFact]
    public void A_short_pool_pays_validators_first_and_never_goes_negative()
    {
        var book = Book;
        Ok(book.Deposit("d", Client, 1_000_000, Auth("d")));
        Ok(book.Hold("h", Client, 10_000, Auth("r")));
        Ok(book.Settle("h", 10_000, new SettlementParties(Asserter), Auth("s"), new FeeSplit(9_990, 0, 0, 10, 0)));
        Assert.Equal(10, book.Balance(Account.ValidatorPool));

        Ok(book.RewardChallenge(Auth("c1"), Asserter, [ValidatorA, ValidatorB], Client, new ChallengePayment(100, 4, 2, 100), out var paid));
        Assert.Equal(new ChallengePayment(2, 4, 2, 0), paid);
        Assert.Equal(0, book.Balance(Account.ValidatorPool));
        Fails(LedgerErrors.NothingToPay, book.RewardChallenge(Auth("c2"), Asserter, [ValidatorA], Client, new ChallengePayment(1, 1, 1, 1), out paid));
        Assert.Equal(0, paid.Total);
        AssertConsistent();
    }

    [SkippableFact]
    public void Bad_challenge_payments_write_nothing()
    {
        var book = Book;
        Ok(book.Deposit("d", Client, 1_000, Auth("d")));
        long before = Store.ReadHead().Sequence;
        Fails(LedgerErrors.InvalidAmount, book.RewardChallenge(Auth("c"), Asserter, [ValidatorA], Client, new ChallengePayment(-1, 1, 1, 0), out _));
        Fails(LedgerErrors.InvalidAmount, book.RewardChallenge(Auth("c"), Asserter, [ValidatorA, ValidatorA], Client, new ChallengePayment(0, 1, 2, 0), out _));
        Fails(LedgerErrors.InvalidAmount, book.RewardChallenge(Auth("c"), Asserter, [Asserter], Client, new ChallengePayment(0, 1, 1, 0), out _));
        Fails(LedgerErrors.InvalidAmount, book.RewardChallenge(Auth("c"), Asserter, [ValidatorA], Client, new ChallengePayment(0, 1, 2, 0), out _));
        Fails(LedgerErrors.InvalidAmount, book.RewardChallenge(Auth("c"), Asserter, [], Client, new ChallengePayment(0, 1, 0, 0), out _));
        Assert.Equal(before, Store.ReadHead().Sequence);
    }

    [SkippableFact]
    public void The_verifier_refuses_a_journal_whose_reveal_does_not_match_its_commitment()
    {
        // A journal written by hand (the book refuses this): epoch 0 commits to one secret and "reveals" another.
        var book = Book;
        Ok(book.CommitEpochSecret(0, ChallengeDraw.Commit(Secret(1).ToArray()), Rate));
        Ok(book.CloseEpoch(0, out _));
        var head = Store.ReadHead();
        var forged = new LedgerEntry { Id = LedgerBook.EpochRevealId(0), Kind = EntryKind.EpochSecretRevealed, Authorization = Secret(2), Reference = "0", Postings = [] }
            .Seal(head.Sequence + 1, head.Epoch, head.Hash);
        Store.Write(tx =>
        {
            tx.Append(forged);
            return LedgerResult.Applied(forged.Sequence, forged.Hash);
        });
        var report = LedgerVerifier.Verify(Store);
        Assert.False(report.IsConsistent);
        Assert.Contains("does not hash to its commitment", report.ToString());
    }
}

public sealed class SqliteChallengeLedgerTests : ChallengeLedgerTests
{
    protected override LedgerBackend CreateBackend() => LedgerBackend.Sqlite();
}

public sealed class PostgresChallengeLedgerTests : ChallengeLedgerTests
{
    protected override LedgerBackend CreateBackend() => LedgerBackend.Postgres();
}
