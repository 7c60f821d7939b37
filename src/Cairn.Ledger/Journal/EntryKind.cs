namespace Cairn.Ledger.Journal;

/// <summary>What an entry does. The numbers are part of the canonical encoding: add new ones, never renumber.</summary>
public enum EntryKind : byte
{
    Deposit = 1,
    Withdrawal = 2,
    Hold = 3,
    Settle = 4,
    Release = 5,
    Bond = 6,
    Unbond = 7,
    StakeWithdrawal = 8,
    Slash = 9,
    Payout = 10,
    EpochClose = 11,
    /// <summary>A validator paid for a challenge that matched: <c>validator-pool → provider-earnings</c>.</summary>
    ValidatorReward = 12,
}
