namespace Cairn.Ledger.Accounts;

/// <summary>The kinds of account; the text form of each is in <see cref="Account"/>.</summary>
public enum AccountKind
{
    /// <summary><c>client:&lt;address&gt;</c>: a client's available balance.</summary>
    Client,
    /// <summary><c>hold:&lt;id&gt;</c>: a fee held for one request until it is settled or released.</summary>
    Hold,
    /// <summary><c>provider-stake:&lt;address&gt;</c>: bonded stake (counts toward the minimum, can be slashed).</summary>
    ProviderStake,
    /// <summary><c>provider-unbonding:&lt;address&gt;</c>: stake waiting out the unbonding delay.</summary>
    ProviderUnbonding,
    /// <summary><c>provider-earnings:&lt;address&gt;</c>: fees earned (and slashing rewards won), paid out per epoch.</summary>
    ProviderEarnings,
    /// <summary><c>validator-pool</c>: the validators' share of fees.</summary>
    ValidatorPool,
    /// <summary><c>royalty:&lt;address&gt;</c>: base-model owners' and adapter authors' shares.</summary>
    Royalty,
    /// <summary><c>treasury</c>: the network's share and every rounding remainder.</summary>
    Treasury,
    /// <summary><c>burn</c>: destroyed value (the burned part of a slash). Only ever credited.</summary>
    Burn,
    /// <summary><c>external</c>: the world outside the ledger; the counterpart of deposits, withdrawals and payouts. The only account that may be negative.</summary>
    External,
}
