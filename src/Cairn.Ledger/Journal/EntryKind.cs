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
    /// <summary>An epoch's challenge secret committed before the epoch's draws (no postings; authorization = Keccak-256(secret)).</summary>
    EpochSecretCommitted = 13,
    /// <summary>That secret revealed after the epoch closed (no postings; authorization = the 32-byte secret).</summary>
    EpochSecretRevealed = 14,
    /// <summary>A settled receipt the draw challenged (no postings; authorization = the receipt's hash).</summary>
    ChallengeDrawn = 15,
    /// <summary>A challenge that matched: <c>validator-pool →</c> the asserter's R_A, each validator's R_V / n, the client's discount.</summary>
    ChallengeReward = 16,
    /// <summary>
    /// A base model or LoRA adapter registered (no postings; authorization = the signed <c>ContributionEntry</c>'s hash,
    /// subject = its publisher, reference = <c>model:NAME</c> or <c>adapter:NAME</c>; the entry's bytes are in
    /// <c>ledger_contributions</c>).
    /// </summary>
    ContributionPublished = 17,
}
