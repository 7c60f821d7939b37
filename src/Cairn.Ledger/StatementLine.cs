using Cairn.Ledger.Journal;
using Cairn.Protocol.Crypto;

namespace Cairn.Ledger;

/// <summary>
/// One entry on a statement: where it is in the journal, what authorized it (a settlement: the receipt's hash), its
/// reference (a settlement: the hold id, which the gateway makes the request's hash), the net amount on the account and
/// the balance after it.
/// </summary>
public readonly record struct StatementLine(long Sequence, string EntryId, EntryKind Kind, Hash256 Authorization, long Amount, long Balance, string Reference = "");
