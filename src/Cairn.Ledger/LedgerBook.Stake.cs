using Cairn.Ledger.Accounts;
using Cairn.Ledger.Journal;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;

namespace Cairn.Ledger;

public sealed partial class LedgerBook
{
    /// <summary>Bonds stake from the provider's own available balance: <c>client:&lt;p&gt; → provider-stake:&lt;p&gt;</c>.</summary>
    public LedgerResult Bond(string entryId, Address provider, long amount, Hash256 authorization) =>
        Transfer(entryId, EntryKind.Bond, Account.Client(provider), Account.ProviderStake(provider), amount, authorization, provider.ToString());

    /// <summary>
    /// Starts unbonding: <c>provider-stake → provider-unbonding</c>. The amount stops counting toward the minimum stake at
    /// once and can be withdrawn from epoch (open epoch + <see cref="Economics.LedgerOptions.UnbondingDelayEpochs"/>).
    /// </summary>
    public LedgerResult Unbond(string entryId, Address provider, long amount, Hash256 authorization) =>
        Transfer(entryId, EntryKind.Unbond, Account.ProviderStake(provider), Account.ProviderUnbonding(provider), amount, authorization, provider.ToString(),
            unlockDelay: Options.UnbondingDelayEpochs);

    /// <summary>Withdraws unbonded stake whose delay has passed back to the provider's available balance.</summary>
    public LedgerResult WithdrawStake(string entryId, Address provider, long amount, Hash256 authorization)
    {
        string unbonding = Account.ProviderUnbonding(provider);
        return Transfer(entryId, EntryKind.StakeWithdrawal, unbonding, Account.Client(provider), amount, authorization, provider.ToString(), check: tx =>
        {
            long matured = Math.Max(0, (tx.Balance(unbonding) ?? 0) - tx.PendingUnbonding(unbonding, tx.Head.Epoch));
            return amount > matured
                ? LedgerResult.Fail(LedgerErrors.UnbondingNotMatured, $"{provider} can withdraw {matured} in epoch {tx.Head.Epoch}; {amount} was asked")
                : null;
        });
    }

    /// <summary>
    /// Slashes bonded stake for a proven fault: <paramref name="evidence"/> is the hash of the evidence (the verdict).
    /// <see cref="Economics.LedgerOptions.SlashWinnerBps"/> of the amount (rounded down) goes to <paramref name="winner"/>'s
    /// earnings, the rest to <c>burn</c>; with no winner all of it is burned.
    /// </summary>
    public LedgerResult Slash(string entryId, Address provider, long amount, Hash256 evidence, Address? winner)
    {
        if (amount <= 0) return InvalidAmount(amount);
        long won = winner is null ? 0 : Economics.FeeSplit.Share(amount, Options.SlashWinnerBps);
        var postings = new List<Posting> { new(Account.ProviderStake(provider), -amount) };
        if (won > 0) postings.Add(new Posting(Account.ProviderEarnings(winner!.Value), won));
        if (amount - won > 0) postings.Add(new Posting(Account.Burn, amount - won));
        return Apply(entryId, _ => Build(EntryKind.Slash, evidence, provider.ToString(), "", [.. postings]));
    }

    /// <summary>
    /// Pays a validator for a challenge whose re-execution matched (DESIGN.md §4.3): <c>validator-pool → provider-earnings:&lt;v&gt;</c>.
    /// <paramref name="authorization"/> is the hash of the challenge (the receipts compared). Fails with
    /// <see cref="LedgerErrors.InsufficientBalance"/> when the pool holds less than <paramref name="amount"/>.
    /// </summary>
    public LedgerResult RewardValidator(string entryId, Address validator, long amount, Hash256 authorization) =>
        Transfer(entryId, EntryKind.ValidatorReward, Account.ValidatorPool, Account.ProviderEarnings(validator), amount, authorization, validator.ToString());

    /// <summary>True when the provider's bonded stake is at least <see cref="Economics.LedgerOptions.MinimumStake"/>; a provider slashed below it stops receiving work.</summary>
    public bool IsEligible(Address provider) => (Store.ReadBalance(Account.ProviderStake(provider)) ?? 0) >= Options.MinimumStake;

    /// <summary>Pays an earnings, royalty, validator-pool or treasury balance out to <c>external</c>.</summary>
    public LedgerResult Payout(string entryId, string account, long amount, Hash256 authorization)
    {
        if (!Account.TryParse(account, out var kind, out string? canonical, out string? error)) return LedgerResult.Fail(LedgerErrors.InvalidAccount, error);
        if (kind is not (AccountKind.ProviderEarnings or AccountKind.Royalty or AccountKind.ValidatorPool or AccountKind.Treasury))
            return LedgerResult.Fail(LedgerErrors.WrongAccountKind, $"payouts are made from earnings, royalty, validator-pool or treasury accounts; not from {canonical}");
        return Transfer(entryId, EntryKind.Payout, canonical, Account.External, amount, authorization, canonical);
    }
}
