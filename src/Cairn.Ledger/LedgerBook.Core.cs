using Cairn.Ledger.Accounts;
using Cairn.Ledger.Journal;
using Cairn.Ledger.Storage;
using Cairn.Protocol.Crypto;

namespace Cairn.Ledger;

public sealed partial class LedgerBook
{
    /// <summary>An entry about to be appended (without its chain placement), or the reason there is none.</summary>
    private readonly record struct Draft(LedgerEntry? Entry, LedgerResult Failure);

    private static Draft Build(EntryKind kind, Hash256 authorization, string subject, string reference, params Posting[] postings) =>
        new(new LedgerEntry { Id = "", Kind = kind, Authorization = authorization, Subject = subject, Reference = reference, Postings = postings }, default);

    private static Draft Failure(string code, string message) => new(null, LedgerResult.Fail(code, message));

    private static LedgerResult InvalidAmount(long amount) => LedgerResult.Fail(LedgerErrors.InvalidAmount, $"amount must be positive; got {amount}");

    private LedgerResult Transfer(string entryId, EntryKind kind, string from, string to, long amount, Hash256 authorization, string subject,
        Func<ILedgerTransaction, LedgerResult?>? check = null, long unlockDelay = 0)
    {
        if (amount <= 0) return InvalidAmount(amount);
        return Apply(entryId, _ => Build(kind, authorization, subject, "", new Posting(from, -amount), new Posting(to, amount)), check, unlockDelay);
    }

    /// <summary>
    /// The one path by which entries are written: build the entry; if the id exists, compare content (no-op or
    /// conflict); run the operation's own state check; check every posting against the balances (no account but
    /// <c>external</c> goes negative, debited accounts must exist, nothing overflows); seal it after the head; append.
    /// </summary>
    private LedgerResult Apply(string entryId, Func<ILedgerTransaction, Draft> build, Func<ILedgerTransaction, LedgerResult?>? check = null, long unlockDelay = 0)
    {
        if (!LedgerIds.TryValidate(entryId, "entry id", out string? idError)) return LedgerResult.Fail(LedgerErrors.InvalidId, idError);
        return Store.Write(tx => AppendChecked(tx, entryId, build(tx), check, unlockDelay));
    }

    private static LedgerResult AppendChecked(ILedgerTransaction tx, string entryId, Draft draft, Func<ILedgerTransaction, LedgerResult?>? check = null, long unlockDelay = 0)
    {
        if (draft.Entry is null) return draft.Failure;
        var entry = new LedgerEntry
        {
            Id = entryId,
            Kind = draft.Entry.Kind,
            Authorization = draft.Entry.Authorization,
            Subject = draft.Entry.Subject,
            Reference = draft.Entry.Reference,
            Postings = draft.Entry.Postings,
        };
        if (tx.FindEntry(entryId) is { } existing)
        {
            return existing.ContentHash == entry.ContentHash()
                ? LedgerResult.Replay(existing.Sequence, existing.Hash)
                : LedgerResult.Fail(LedgerErrors.DuplicateIdConflict, $"entry \"{entryId}\" was applied at #{existing.Sequence} with different content; nothing was written");
        }
        if (check?.Invoke(tx) is { } failed) return failed;
        if (CheckPostings(tx, entry.Postings) is { } rejected) return rejected;
        var head = tx.Head;
        var sealedEntry = entry.Seal(head.Sequence + 1, head.Epoch, head.Hash, unlockDelay > 0 ? checked(head.Epoch + unlockDelay) : 0);
        tx.Append(sealedEntry);
        return LedgerResult.Applied(sealedEntry.Sequence, sealedEntry.Hash);
    }

    private static LedgerResult? CheckPostings(ILedgerTransaction tx, IReadOnlyList<Posting> postings)
    {
        Int128 sum = 0;
        var deltas = new Dictionary<string, Int128>(StringComparer.Ordinal);
        foreach (var p in postings)
        {
            if (!Account.TryParse(p.Account, out _, out string? canonical, out _) || canonical != p.Account)
                throw new InvalidOperationException($"bug: posting to \"{p.Account}\", which is not a canonical account name");
            sum += p.Amount;
            deltas[p.Account] = deltas.GetValueOrDefault(p.Account) + p.Amount;
        }
        if (sum != 0) throw new InvalidOperationException($"bug: an entry's postings sum to {sum}");
        foreach (var (account, delta) in deltas)
        {
            long? balance = tx.Balance(account);
            bool external = account == Account.External;
            if (delta < 0 && balance is null && !external)
                return LedgerResult.Fail(LedgerErrors.UnknownAccount, $"account {account} has never been credited, so it cannot be debited");
            Int128 after = (balance ?? 0) + delta;
            if (after > long.MaxValue || after < long.MinValue)
                return LedgerResult.Fail(LedgerErrors.AmountOverflow, $"account {account} would hold {after}, outside the 64-bit range of micro-units");
            if (after < 0 && !external)
            {
                return account.StartsWith("client:", StringComparison.Ordinal)
                    ? LedgerResult.Fail(LedgerErrors.InsufficientFunds, $"{account} has {balance ?? 0} available; {-delta} is needed")
                    : LedgerResult.Fail(LedgerErrors.InsufficientBalance, $"{account} holds {balance ?? 0}; {-delta} would be debited");
            }
        }
        return null;
    }

    /// <summary>The account's balance; <see cref="LedgerErrors.UnknownAccount"/> or <see cref="LedgerErrors.InvalidAccount"/> as an error.</summary>
    public LedgerResult TryGetBalance(string account, out long balance)
    {
        balance = 0;
        if (!Account.TryParse(account, out _, out string? canonical, out string? error)) return LedgerResult.Fail(LedgerErrors.InvalidAccount, error);
        if (Store.ReadBalance(canonical) is not { } value) return LedgerResult.Fail(LedgerErrors.UnknownAccount, $"account {canonical} has never been used");
        balance = value;
        return LedgerResult.Applied(0, default);
    }

    /// <summary>The account's balance, 0 for an account never used.</summary>
    public long Balance(string account) => Store.ReadBalance(account) ?? 0;
}
