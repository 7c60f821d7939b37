namespace Cairn.Ledger.Journal;

/// <summary>One leg of an entry: a signed amount of micro-units on an account (credit positive, debit negative).</summary>
public readonly record struct Posting(string Account, long Amount);
