using Cairn.Ledger.Accounts;
using Cairn.Ledger.Contributions;
using Cairn.Ledger.Economics;
using Cairn.Ledger.Journal;
using Cairn.Ledger.Tests.TestSupport;
using Cairn.Ledger.Verification;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Messages;

namespace Cairn.Ledger.Tests;

/// <summary>The contributions registry in the journal (docs/contributions.md) and settlement with registered royalties.</summary>
public abstract class ContributionLedgerTests : LedgerTestBase
{
    private static readonly Address Client = Party(1), Provider = Party(2), ModelPayout = Party(3), AdapterPayout = Party(4), OtherAdapterPayout = Party(5);

    private static Secp256k1Key Key(int n)
    {
        var bytes = new byte[32];
        bytes[31] = (byte)n;
        return Secp256k1Key.FromPrivateKey(bytes);
    }

    private static Hash256 File(string name) => Keccak256.Hash(System.Text.Encoding.UTF8.GetBytes("file " + name));

    internal static ContributionEntry Entry(ContributionKind kind, string name, int bps, Address publisher, Address payout, Hash256? baseModel = null,
        ContributionVisibility visibility = ContributionVisibility.Public, Address[]? allowed = null) => new()
        {
            Kind = kind,
            Name = name,
            FileSha256 = File(name),
            BaseModel = baseModel ?? Hash256.Zero,
            RoyaltyBps = bps,
            License = "CC-BY-4.0",
            Payout = payout,
            Publisher = publisher,
            Visibility = visibility,
            AllowedProviders = allowed ?? [],
        };

    private static ContributionEntry Signed(ContributionEntry e, Secp256k1Key key) => e.WithSignature(key.Sign(e.Hash()));

    [SkippableFact]
    public void Models_and_adapters_are_registered_listed_and_found_and_a_republication_is_a_no_op()
    {
        using var owner = Key(7);
        using var author = Key(8);
        var book = Book;
        var model = Signed(Entry(ContributionKind.Model, "base-7b", 300, owner.Address, ModelPayout), owner);
        var adapter = Signed(Entry(ContributionKind.Adapter, "poetry-lora", 150, author.Address, AdapterPayout, File("base-7b"),
            ContributionVisibility.Private, [Party(20), Party(21)]), author);
        Ok(book.Publish(model));
        Ok(book.Publish(adapter));
        Assert.True(book.Publish(model).Replayed);

        Assert.Equal(adapter.Hash(), book.FindContribution(File("poetry-lora"))!.Hash);
        Assert.Equal(model.Encode(), book.FindContribution("base-7b", ContributionKind.Model)!.Message);
        Assert.Null(book.FindContribution("base-7b", ContributionKind.Adapter));
        Assert.Equal("base-7b", Assert.Single(book.ListContributions(ContributionKind.Model)).Entry.Name);
        Assert.Equal(2, book.ListContributions().Count);
        var entry = Store.ReadJournal().Last();
        Assert.Equal((EntryKind.ContributionPublished, adapter.Hash(), author.Address.ToString(), "adapter:poetry-lora", 0),
            (entry.Kind, entry.Authorization, entry.Subject, entry.Reference, entry.Postings.Count));

        var registry = new ContributionRegistry(Store);
        Assert.True(registry.IsAllowed(File("base-7b"), Party(99)));
        Assert.True(registry.IsAllowed(File("unregistered"), Party(99)));
        Assert.True(registry.IsAllowed(File("poetry-lora"), Party(21)));
        Assert.False(registry.IsAllowed(File("poetry-lora"), Party(22)));
        AssertConsistent();
    }

    [SkippableFact]
    public void Every_bad_publication_is_refused_with_a_clear_code_and_nothing_is_written()
    {
        using var owner = Key(7);
        using var stranger = Key(9);
        var book = Book;
        var model = Entry(ContributionKind.Model, "base", 500, owner.Address, ModelPayout);
        Ok(book.Publish(Signed(model, owner)));
        long head = Store.ReadHead().Sequence;

        Fails(LedgerErrors.InvalidContribution, book.Publish(Signed(Entry(ContributionKind.Model, "greedy", 10_001, owner.Address, ModelPayout), owner)));
        var tooHigh = book.Publish(Signed(Entry(ContributionKind.Model, "greedy", 9_500, owner.Address, ModelPayout), owner));
        Fails(LedgerErrors.RoyaltyTooHigh, tooHigh);
        Assert.Contains("9000", tooHigh.Message!.Replace(",", ""));
        Fails(LedgerErrors.RoyaltyTooHigh, book.Publish(Signed(Entry(ContributionKind.Adapter, "greedy-lora", 8_600, owner.Address, AdapterPayout, File("base")), owner)));
        var forged = book.Publish(Signed(Entry(ContributionKind.Model, "forged", 100, owner.Address, ModelPayout), stranger));
        Fails(LedgerErrors.WrongPublisher, forged);
        Assert.Contains($"signed by {stranger.Address}, not by its publisher {owner.Address}", forged.Message);
        Fails(LedgerErrors.WrongPublisher, book.Publish(Entry(ContributionKind.Model, "unsigned", 100, owner.Address, ModelPayout)));
        var orphan = book.Publish(Signed(Entry(ContributionKind.Adapter, "orphan", 100, owner.Address, AdapterPayout, File("other-base")), owner));
        Fails(LedgerErrors.UnknownBaseModel, orphan);
        Assert.Contains(File("other-base").ToString(), orphan.Message);
        Ok(book.Publish(Signed(Entry(ContributionKind.Adapter, "lora", 100, owner.Address, AdapterPayout, File("base")), owner)));
        head++;
        Fails(LedgerErrors.UnknownBaseModel, book.Publish(Signed(Entry(ContributionKind.Adapter, "lora-on-lora", 100, owner.Address, AdapterPayout, File("lora")), owner)));
        var sameFile = book.Publish(Signed(new ContributionEntry
        {
            Kind = ContributionKind.Model,
            Name = "base-renamed",
            FileSha256 = File("base"),
            RoyaltyBps = 1,
            Payout = ModelPayout,
            Publisher = owner.Address,
        }, owner));
        Fails(LedgerErrors.DuplicateContribution, sameFile);
        Assert.Contains($"file {File("base")} is already registered", sameFile.Message);
        Fails(LedgerErrors.DuplicateContribution, book.Publish(Signed(new ContributionEntry
        {
            Kind = ContributionKind.Model,
            Name = "base",
            FileSha256 = File("another file"),
            RoyaltyBps = 1,
            Payout = ModelPayout,
            Publisher = owner.Address,
        }, owner)));
        Assert.Equal(head, Store.ReadHead().Sequence);
        Assert.Equal(2, Store.ReadContributions().Count);
        AssertConsistent();
    }

    [SkippableFact]
    public void Settlement_pays_each_contributor_exactly_its_registered_share_and_the_provider_the_rest()
    {
        var book = Book;
        Ok(book.Deposit("d", Client, 100_000_000, Auth("d")));
        var royalties = new[]
        {
            new RoyaltyShare(ModelPayout, 333, File("m")),
            new RoyaltyShare(AdapterPayout, 1_250, File("a")),
            new RoyaltyShare(OtherAdapterPayout, 7, File("b")),
        };
        var split = Options.FeeSplit;
        long expectModel = 0, expectAdapter = 0, expectOther = 0, expectProvider = 0, expectPool = 0, expectTreasury = 0;
        long[] fees = [0, 1, 9, 10, 99, 101, 3_333, 9_999, 10_000, 123_457, 1_000_003];
        for (int i = 0; i < fees.Length; i++)
        {
            long fee = fees[i];
            Ok(book.Hold("h" + i, Client, fee + 5, Auth("req" + i)));
            Ok(book.Settle("h" + i, fee, new SettlementParties(Provider) { Royalties = royalties }, Auth("receipt" + i)));
            long m = fee * 333 / 10_000, a = fee * 1_250 / 10_000, o = fee * 7 / 10_000, v = fee * split.ValidatorPoolBps / 10_000, t = fee * split.TreasuryBps / 10_000;
            Assert.True(m + a + o + v + t <= fee);
            expectModel += m; expectAdapter += a; expectOther += o; expectPool += v; expectTreasury += t;
            expectProvider += fee - m - a - o - v - t;
        }
        Assert.Equal(expectModel, book.Balance(Account.Royalty(ModelPayout)));
        Assert.Equal(expectAdapter, book.Balance(Account.Royalty(AdapterPayout)));
        Assert.Equal(expectOther, book.Balance(Account.Royalty(OtherAdapterPayout)));
        Assert.Equal(expectPool, book.Balance(Account.ValidatorPool));
        Assert.Equal(expectTreasury, book.Balance(Account.Treasury));
        Assert.Equal(expectProvider, book.Balance(Account.ProviderEarnings(Provider)));
        Assert.Equal(fees.Sum(), expectModel + expectAdapter + expectOther + expectPool + expectTreasury + expectProvider);
        Assert.Equal(100_000_000 - fees.Sum(), book.Balance(Account.Client(Client)));

        // The statement names each request that paid: the settle entry, its receipt and its hold.
        Ok(book.TryGetStatement(Account.Royalty(AdapterPayout), 0, out var statement));
        Assert.Equal(fees.Count(f => f * 1_250 / 10_000 > 0), statement!.Lines.Count);
        var line = statement.Lines[^1];
        Assert.Equal(("settle/h10", "h10", Auth("receipt10"), 1_000_003L * 1_250 / 10_000), (line.EntryId, line.Reference, line.Authorization, line.Amount));
        AssertConsistent();
    }

    [SkippableFact]
    public void Royalties_above_what_the_network_shares_leave_are_refused_at_settlement()
    {
        var book = Book;
        Ok(book.Deposit("d", Client, 1_000, Auth("d")));
        Ok(book.Hold("h", Client, 1_000, Auth("r")));
        long head = Store.ReadHead().Sequence;
        var parties = new SettlementParties(Provider) { Royalties = [new RoyaltyShare(ModelPayout, 5_000, File("m")), new RoyaltyShare(AdapterPayout, 4_001, File("a"))] };
        var refused = book.Settle("h", 1_000, parties, Auth("receipt"));
        Fails(LedgerErrors.RoyaltyTooHigh, refused);
        Assert.Contains("royalties total 9001 bps, more than the 9000 bps", refused.Message);
        Assert.Equal(head, Store.ReadHead().Sequence);
        Ok(book.Settle("h", 1_000, parties with { Royalties = [new RoyaltyShare(ModelPayout, 5_000, File("m")), new RoyaltyShare(AdapterPayout, 4_000, File("a"))] }, Auth("receipt")));
        Assert.Equal(0, book.Balance(Account.ProviderEarnings(Provider)));
        Assert.Equal(500, book.Balance(Account.Royalty(ModelPayout)));
        AssertConsistent();
    }

    [SkippableFact]
    public void The_registry_gives_settlement_the_registered_shares_and_unregistered_models_none()
    {
        using var owner = Key(7);
        var book = Book;
        var registry = new ContributionRegistry(Store);
        Assert.Null(registry.PartiesFor(Provider, File("base"), []).Royalties); // not yet registered
        Ok(book.Publish(Signed(Entry(ContributionKind.Model, "base", 400, owner.Address, ModelPayout), owner)));
        Ok(book.Publish(Signed(Entry(ContributionKind.Adapter, "lora", 125, owner.Address, AdapterPayout, File("base")), owner)));
        var parties = registry.PartiesFor(Provider, File("base"), [File("lora"), File("unregistered lora"), File("base")]);
        Assert.Equal([(ModelPayout, 400), (AdapterPayout, 125)], parties.Royalties!.Select(r => (r.Payout, r.Bps)));
        Assert.Equal([(AdapterPayout, 125)], registry.PartiesFor(Provider, File("other"), [File("lora")]).Royalties!.Select(r => (r.Payout, r.Bps)));
        Assert.Null(registry.PartiesFor(Provider, File("other"), []).Royalties);
    }

    [SkippableFact]
    public void Verify_catches_an_altered_or_missing_contribution_message()
    {
        using var owner = Key(7);
        var book = Book;
        Ok(book.Publish(Signed(Entry(ContributionKind.Model, "base", 400, owner.Address, ModelPayout), owner)));
        Ok(book.Publish(Signed(Entry(ContributionKind.Adapter, "lora", 125, owner.Address, AdapterPayout, File("base")), owner)));
        AssertConsistent();
        Backend.ExecuteRaw("UPDATE ledger_contributions SET message = (SELECT message FROM ledger_contributions WHERE kind = 2) WHERE kind = 1");
        var swapped = LedgerVerifier.Verify(Store);
        Assert.False(swapped.IsConsistent);
        Assert.Contains("hashes to", swapped.FirstProblem);
        Backend.ExecuteRaw("DELETE FROM ledger_contributions WHERE kind = 1");
        var missing = LedgerVerifier.Verify(Store);
        Assert.False(missing.IsConsistent);
        Assert.Contains("not in the contributions table", missing.FirstProblem);
    }

    [SkippableFact]
    public void A_version_1_ledger_is_upgraded_to_hold_contributions_when_it_is_opened()
    {
        using var owner = Key(7);
        Ok(Book.Deposit("d", Client, 10, Auth("d")));
        Backend.ExecuteRaw("DROP TABLE ledger_contributions");
        Backend.ExecuteRaw("UPDATE ledger_meta SET value = '1' WHERE key = 'schema_version'");
        using var reopened = Backend.Open();
        var book = new LedgerBook(reopened, Options);
        Ok(book.Publish(Signed(Entry(ContributionKind.Model, "base", 400, owner.Address, ModelPayout), owner)));
        Assert.True(LedgerVerifier.Verify(reopened).IsConsistent);
    }
}

public sealed class SqliteContributionLedgerTests : ContributionLedgerTests
{
    protected override LedgerBackend CreateBackend() => LedgerBackend.Sqlite();
}

public sealed class PostgresContributionLedgerTests : ContributionLedgerTests
{
    protected override LedgerBackend CreateBackend() => LedgerBackend.Postgres();
}
