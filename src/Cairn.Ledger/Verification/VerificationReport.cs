namespace Cairn.Ledger.Verification;

/// <summary>What <see cref="LedgerVerifier"/> found: consistent, or the first inconsistency in journal order.</summary>
public sealed record VerificationReport(bool IsConsistent, string? FirstProblem, long Entries, int Accounts, int ClosedEpochs)
{
    public override string ToString() => IsConsistent
        ? $"consistent: {Entries} entries, {Accounts} accounts, {ClosedEpochs} closed epochs; balances, holds, epoch roots and the hash chain recomputed"
        : $"INCONSISTENT: {FirstProblem}";
}
