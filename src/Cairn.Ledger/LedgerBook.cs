using Cairn.Ledger.Accounts;
using Cairn.Ledger.Economics;
using Cairn.Ledger.Journal;
using Cairn.Ledger.Storage;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;

namespace Cairn.Ledger;

/// <summary>
/// The ledger's operations (docs/ledger.md). Each builds one journal entry from its inputs and the current state, and
/// appends it in one transaction together with the balance projection — or returns a <see cref="LedgerResult"/> error
/// having written nothing. Re-applying an id with the same content is a no-op (<see cref="LedgerResult.Replayed"/>).
/// Thread-safe; several <see cref="LedgerBook"/>s (in several processes) may share one store.
/// </summary>
public sealed partial class LedgerBook(ILedgerStore store, LedgerOptions? options = null)
{
    public ILedgerStore Store { get; } = store;
    public LedgerOptions Options { get; } = options ?? new LedgerOptions();

    /// <summary>Money comes in: <c>external → client:&lt;client&gt;</c>. <paramref name="authorization"/> is the hash of the deposit's proof.</summary>
    public LedgerResult Deposit(string entryId, Address client, long amount, Hash256 authorization) =>
        Transfer(entryId, EntryKind.Deposit, Account.External, Account.Client(client), amount, authorization, client.ToString());

    /// <summary>A client takes available money out: <c>client → external</c>.</summary>
    public LedgerResult Withdraw(string entryId, Address client, long amount, Hash256 authorization) =>
        Transfer(entryId, EntryKind.Withdrawal, Account.Client(client), Account.External, amount, authorization, client.ToString());

    /// <summary>
    /// Holds <paramref name="amount"/> of the client's available balance for one request (entry id <c>hold/&lt;holdId&gt;</c>).
    /// Fails with <see cref="LedgerErrors.InsufficientFunds"/> when the balance cannot cover it.
    /// </summary>
    public LedgerResult Hold(string holdId, Address client, long amount, Hash256 authorization)
    {
        if (!LedgerIds.TryValidate(holdId, "hold id", out string? error)) return LedgerResult.Fail(LedgerErrors.InvalidId, error);
        if (amount <= 0) return InvalidAmount(amount);
        return Apply("hold/" + holdId, _ => Build(EntryKind.Hold, authorization, Account.Client(client), holdId,
            new Posting(Account.Client(client), -amount), new Posting(Account.Hold(holdId), amount)));
    }

    /// <summary>
    /// Settles a hold (entry id <c>settle/&lt;holdId&gt;</c>): <paramref name="fee"/> is split by <paramref name="split"/>
    /// (default <see cref="LedgerOptions.FeeSplit"/>; rounding in <see cref="FeeSplit"/>) and the rest of the hold goes back
    /// to the client. <paramref name="authorization"/> is the receipt's hash.
    /// </summary>
    public LedgerResult Settle(string holdId, long fee, SettlementParties parties, Hash256 authorization, FeeSplit? split = null)
    {
        split ??= Options.FeeSplit;
        if (!split.IsValid(out string? splitError)) return LedgerResult.Fail(LedgerErrors.InvalidSplit, splitError);
        if (!LedgerIds.TryValidate(holdId, "hold id", out string? error)) return LedgerResult.Fail(LedgerErrors.InvalidId, error);
        if (fee < 0) return LedgerResult.Fail(LedgerErrors.InvalidAmount, $"fee must not be negative; got {fee}");
        if (parties.Royalties is { } royalties && RoyaltyProblem(royalties, split) is { } royaltyError) return LedgerResult.Fail(LedgerErrors.RoyaltyTooHigh, royaltyError);
        if (parties.Stages is { } stages && StagesProblem(stages, parties.Provider) is { } stagesError) return LedgerResult.Fail(LedgerErrors.InvalidSplit, stagesError);
        return Apply("settle/" + holdId, tx =>
        {
            if (tx.FindHold(holdId) is not { } hold) return Failure(LedgerErrors.UnknownHold, $"no hold \"{holdId}\" was placed");
            if (fee > hold.Amount) return Failure(LedgerErrors.FeeExceedsHold, $"fee {fee} exceeds the {hold.Amount} held by \"{holdId}\"");
            var postings = new List<Posting> { new(Account.Hold(holdId), -hold.Amount) };
            if (parties.Royalties is { } shares) AddRoyaltySplit(postings, fee, parties, shares, split);
            else AddSplit(postings, fee, parties, split);
            if (hold.Amount - fee > 0) postings.Add(new Posting(hold.Client, hold.Amount - fee));
            return Build(EntryKind.Settle, authorization, parties.Provider.ToString(), holdId, [.. postings]);
        }, RequireOpenHold(holdId));
    }

    /// <summary>Returns a whole hold to its client (entry id <c>release/&lt;holdId&gt;</c>), e.g. when the request failed.</summary>
    public LedgerResult Release(string holdId, Hash256 authorization)
    {
        if (!LedgerIds.TryValidate(holdId, "hold id", out string? error)) return LedgerResult.Fail(LedgerErrors.InvalidId, error);
        return Apply("release/" + holdId, tx => tx.FindHold(holdId) is not { } hold
            ? Failure(LedgerErrors.UnknownHold, $"no hold \"{holdId}\" was placed")
            : Build(EntryKind.Release, authorization, "", holdId, new Posting(Account.Hold(holdId), -hold.Amount), new Posting(hold.Client, hold.Amount)),
            RequireOpenHold(holdId));
    }

    private static Func<ILedgerTransaction, LedgerResult?> RequireOpenHold(string holdId) => tx =>
        tx.FindHold(holdId) is { ClosedBy: { } closed } ? LedgerResult.Fail(LedgerErrors.HoldClosed, $"hold \"{holdId}\" was already closed by entry #{closed}") : null;

    private static void AddSplit(List<Posting> postings, long fee, SettlementParties parties, FeeSplit split)
    {
        long provider = FeeSplit.Share(fee, split.ProviderBps);
        long owner = parties.ModelOwner is null ? 0 : FeeSplit.Share(fee, split.ModelOwnerBps);
        var authors = parties.AdapterAuthors ?? [];
        long perAuthor = authors.Count == 0 ? 0 : FeeSplit.Share(fee, split.AdapterAuthorsBps) / authors.Count;
        long validators = FeeSplit.Share(fee, split.ValidatorPoolBps);
        long treasury = fee - provider - owner - perAuthor * authors.Count - validators; // its own share, unclaimed shares and every remainder
        AddProviders(postings, parties, provider);
        if (parties.ModelOwner is { } o) Add(postings, Account.Royalty(o), owner);
        foreach (var a in authors) Add(postings, Account.Royalty(a), perAuthor);
        Add(postings, Account.ValidatorPool, validators);
        Add(postings, Account.Treasury, treasury);
    }

    /// <summary>
    /// The most basis points royalties may take of a fee: what the validator pool's and the treasury's shares leave
    /// (9,000 with the default split).
    /// </summary>
    public static int MaxRoyaltyBps(FeeSplit split) => FeeSplit.Total - split.ValidatorPoolBps - split.TreasuryBps;

    private static string? RoyaltyProblem(IReadOnlyList<RoyaltyShare> royalties, FeeSplit split)
    {
        long total = 0;
        foreach (var r in royalties)
        {
            if (r.Bps is < 0 or > FeeSplit.Total) return $"the royalty of {r.Contribution} is {r.Bps} bps; it must be 0 to {FeeSplit.Total}";
            total += r.Bps;
        }
        int max = MaxRoyaltyBps(split);
        return total > max
            ? $"royalties total {total} bps, more than the {max} bps the validator pool ({split.ValidatorPoolBps}) and the treasury ({split.TreasuryBps}) leave of a fee"
            : null;
    }

    /// <summary>
    /// Royalty settlement: each contribution ⌊fee × its bps / 10,000⌋ to <c>royalty:&lt;payout&gt;</c> (one posting per
    /// account, the sum of its shares), the validator pool and the treasury their ⌊…⌋ shares of the split, and the
    /// provider the rest — so every rounding remainder goes to the provider and the shares sum to exactly the fee.
    /// </summary>
    private static void AddRoyaltySplit(List<Posting> postings, long fee, SettlementParties parties, IReadOnlyList<RoyaltyShare> royalties, FeeSplit split)
    {
        var perAccount = new SortedDictionary<string, long>(StringComparer.Ordinal);
        long paid = 0;
        foreach (var r in royalties)
        {
            long share = FeeSplit.Share(fee, r.Bps);
            string account = Account.Royalty(r.Payout);
            perAccount[account] = perAccount.GetValueOrDefault(account) + share;
            paid += share;
        }
        long validators = FeeSplit.Share(fee, split.ValidatorPoolBps);
        long treasury = FeeSplit.Share(fee, split.TreasuryBps);
        AddProviders(postings, parties, fee - paid - validators - treasury);
        foreach (var (account, amount) in perAccount) Add(postings, account, amount);
        Add(postings, Account.ValidatorPool, validators);
        Add(postings, Account.Treasury, treasury);
    }

    /// <summary>
    /// The provider's share: all to <see cref="SettlementParties.Provider"/>, or for a pipeline split by layers served
    /// (<see cref="SettlementParties.Stages"/>), the remainders to the last stage; one posting per provider account.
    /// </summary>
    private static void AddProviders(List<Posting> postings, SettlementParties parties, long amount)
    {
        if (parties.Stages is not { Count: > 0 } stages)
        {
            Add(postings, Account.ProviderEarnings(parties.Provider), amount);
            return;
        }
        long layers = 0;
        foreach (var s in stages) layers += s.Layers;
        var perAccount = new List<(string Account, long Amount)>();
        long paid = 0;
        for (int i = 0; i < stages.Count - 1; i++)
        {
            long share = (long)((Int128)amount * stages[i].Layers / layers);
            Credit(perAccount, Account.ProviderEarnings(stages[i].Provider), share);
            paid += share;
        }
        Credit(perAccount, Account.ProviderEarnings(stages[^1].Provider), amount - paid);
        foreach (var (account, share) in perAccount) Add(postings, account, share);
    }

    private static void Credit(List<(string Account, long Amount)> accounts, string account, long amount)
    {
        int i = accounts.FindIndex(a => a.Account == account);
        if (i < 0) accounts.Add((account, amount));
        else accounts[i] = (account, accounts[i].Amount + amount);
    }

    private static string? StagesProblem(IReadOnlyList<StageShare> stages, Address provider)
    {
        if (stages.Count == 0) return "a pipeline settlement names no stage";
        foreach (var s in stages)
        {
            if (s.Layers < 1) return $"stage {s.Provider} serves {s.Layers} layers; each stage serves at least 1";
        }
        if (stages[^1].Provider != provider) return $"the last stage is {stages[^1].Provider}, the settlement's provider is {provider}: the last stage sampled and is the provider";
        return null;
    }

    private static void Add(List<Posting> postings, string account, long amount)
    {
        if (amount != 0) postings.Add(new Posting(account, amount));
    }
}
