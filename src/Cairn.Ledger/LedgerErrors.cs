namespace Cairn.Ledger;

/// <summary>
/// The stable error codes of the ledger, all in one place (like <c>Cairn.Protocol.Validation.ProtocolErrors</c>). A
/// gateway maps them to HTTP errors and operators grep logs for them: add new ones, never rename or reuse one.
/// Every operation that fails with one of these has written nothing.
/// </summary>
public static class LedgerErrors
{
    /// <summary>An amount is zero or negative where a positive one is required.</summary>
    public const string InvalidAmount = "invalid_amount";
    /// <summary>A balance or a sum would leave the range of a signed 64-bit integer of micro-units.</summary>
    public const string AmountOverflow = "amount_overflow";
    /// <summary>An account name is not one of the documented forms (docs/ledger.md).</summary>
    public const string InvalidAccount = "invalid_account";
    /// <summary>An account that must already exist (to be debited, or to be read) has never been used.</summary>
    public const string UnknownAccount = "unknown_account";
    /// <summary>An entry or hold id is empty, too long or uses characters outside [A-Za-z0-9._:/-].</summary>
    public const string InvalidId = "invalid_id";
    /// <summary>A client's available balance cannot cover a hold (or a withdrawal).</summary>
    public const string InsufficientFunds = "insufficient_funds";
    /// <summary>A debit would make a non-client account negative (stake, earnings, …).</summary>
    public const string InsufficientBalance = "insufficient_balance";
    /// <summary>The id was applied before with different content; nothing was written.</summary>
    public const string DuplicateIdConflict = "duplicate_id_conflict";
    /// <summary>A settlement or release names a hold that was never placed.</summary>
    public const string UnknownHold = "unknown_hold";
    /// <summary>The hold was already settled or released.</summary>
    public const string HoldClosed = "hold_closed";
    /// <summary>A settlement's fee is larger than the amount held.</summary>
    public const string FeeExceedsHold = "fee_exceeds_hold";
    /// <summary>A fee split's basis points do not sum to 10,000, or one is negative.</summary>
    public const string InvalidSplit = "invalid_split";
    /// <summary>A stake withdrawal asks for more than has finished its unbonding delay.</summary>
    public const string UnbondingNotMatured = "unbonding_not_matured";
    /// <summary>An epoch that is neither the open one nor a closed one.</summary>
    public const string EpochNotOpen = "epoch_not_open";
    /// <summary>The operation does not apply to this kind of account (a payout from a hold, …).</summary>
    public const string WrongAccountKind = "wrong_account_kind";
    /// <summary>An epoch's challenge secret is revealed or used, but none was committed for it.</summary>
    public const string UnknownEpochSecret = "unknown_epoch_secret";
    /// <summary>A revealed secret does not hash to the epoch's commitment.</summary>
    public const string RevealMismatch = "reveal_mismatch";
    /// <summary>An epoch's secret is revealed before the epoch has closed.</summary>
    public const string EpochNotClosed = "epoch_not_closed";
    /// <summary>A payment from a pool that holds nothing, or of nothing.</summary>
    public const string NothingToPay = "nothing_to_pay";
    /// <summary>A contribution entry breaks the message's rules (name, royalty above 10,000 bps, base model, allowed providers, …).</summary>
    public const string InvalidContribution = "invalid_contribution";
    /// <summary>A contribution entry is unsigned, badly signed, or signed by someone other than its publisher.</summary>
    public const string WrongPublisher = "wrong_publisher";
    /// <summary>An adapter names a base model that is not registered (as a model).</summary>
    public const string UnknownBaseModel = "unknown_base_model";
    /// <summary>Another entry already registers this file (or this name for this kind).</summary>
    public const string DuplicateContribution = "duplicate_contribution";
    /// <summary>Royalties would take more than what the validator pool and the treasury leave of a fee.</summary>
    public const string RoyaltyTooHigh = "royalty_too_high";
}
