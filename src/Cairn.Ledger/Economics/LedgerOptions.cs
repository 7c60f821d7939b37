namespace Cairn.Ledger.Economics;

/// <summary>The ledger's economic parameters. Defaults are documented on each property (docs/ledger.md).</summary>
public sealed class LedgerOptions
{
    /// <summary>Bonded stake a provider needs to receive work (<see cref="LedgerBook.IsEligible"/>). Default 1,000,000 micro-units.</summary>
    public long MinimumStake { get; init; } = 1_000_000;
    /// <summary>Epochs an unbonding waits before it can be withdrawn: unbonded in epoch e, withdrawable from epoch e + delay. Default 2.</summary>
    public long UnbondingDelayEpochs { get; init; } = 2;
    /// <summary>Earnings and royalty balances at or above this are paid out to <c>external</c> when an epoch closes; 0 pays out nothing. Default 1,000,000.</summary>
    public long PayoutThreshold { get; init; } = 1_000_000;
    /// <summary>The fee split used when a settlement does not name one. Default <see cref="FeeSplit.Default"/>.</summary>
    public FeeSplit FeeSplit { get; init; } = FeeSplit.Default;
    /// <summary>Share of a slashed amount, in basis points, paid to whoever proved the fault; the rest is burned. Default 5,000.</summary>
    public int SlashWinnerBps { get; init; } = 5_000;
}
