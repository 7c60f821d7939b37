namespace Cairn.Ledger;

/// <summary>An account's statement for one epoch: opening balance, every entry that moved it, closing balance.</summary>
public sealed record AccountStatement(string Account, long Epoch, bool EpochClosed, long Opening, long Closing, IReadOnlyList<StatementLine> Lines);
