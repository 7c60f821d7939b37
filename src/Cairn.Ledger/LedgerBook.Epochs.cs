using System.Globalization;
using Cairn.Ledger.Accounts;
using Cairn.Ledger.Journal;
using Cairn.Ledger.Storage;
using Cairn.Protocol.Crypto;

namespace Cairn.Ledger;

public sealed partial class LedgerBook
{
    /// <summary>
    /// Closes the open epoch <paramref name="epoch"/> in one transaction: every <c>provider-earnings:</c> and
    /// <c>royalty:</c> balance at or above <see cref="Economics.LedgerOptions.PayoutThreshold"/> is paid out to
    /// <c>external</c> (entries <c>epoch/N/payout/ACCOUNT</c>, in account order); then the Merkle root of all the epoch's
    /// entry hashes (<see cref="MerkleRoot"/>) is recorded by the entry <c>epoch/N/close</c>, whose authorization is that
    /// root, and epoch N + 1 opens. Closing an epoch that is already closed is a no-op that returns its root.
    /// </summary>
    public LedgerResult CloseEpoch(long epoch, out Hash256 root)
    {
        root = default;
        string closeId = EpochCloseId(epoch);
        var result = Store.Write(tx =>
        {
            var head = tx.Head;
            if (epoch < head.Epoch && tx.FindEntry(closeId) is { } closed) return LedgerResult.Replay(closed.Sequence, closed.Hash);
            if (epoch != head.Epoch) return LedgerResult.Fail(LedgerErrors.EpochNotOpen, $"epoch {epoch} is not open; the open epoch is {head.Epoch}");
            if (Options.PayoutThreshold > 0)
            {
                foreach (string prefix in (string[])["provider-earnings:", "royalty:"])
                {
                    foreach (var (account, balance) in tx.BalancesWithPrefix(prefix))
                    {
                        if (balance < Options.PayoutThreshold) continue;
                        var paid = AppendChecked(tx, $"epoch/{epoch}/payout/{account}",
                            Build(EntryKind.Payout, Hash256.Zero, account, "", new Posting(account, -balance), new Posting(Account.External, balance)));
                        if (!paid.IsOk) throw new InvalidOperationException($"epoch {epoch} payout from {account} failed: {paid}");
                    }
                }
            }
            var epochRoot = MerkleRoot.Compute(tx.EntryHashes(epoch));
            return AppendChecked(tx, closeId, Build(EntryKind.EpochClose, epochRoot, "", epoch.ToString(CultureInfo.InvariantCulture)));
        });
        if (result.IsOk) root = Store.ReadEpochs().Single(e => e.Epoch == epoch).Root;
        return result;
    }

    public static string EpochCloseId(long epoch) => "epoch/" + epoch.ToString(CultureInfo.InvariantCulture) + "/close";

    /// <summary>The epoch now open (0 before any epoch has closed).</summary>
    public long OpenEpoch => Store.ReadHead().Epoch;

    /// <summary>
    /// Every entry of <paramref name="epoch"/> that moved <paramref name="account"/>, with the running balance, between
    /// the balance at the epoch's start and at its end (or now, for the open epoch).
    /// </summary>
    public LedgerResult TryGetStatement(string account, long epoch, out AccountStatement? statement)
    {
        statement = null;
        if (!Account.TryParse(account, out _, out string? canonical, out string? error)) return LedgerResult.Fail(LedgerErrors.InvalidAccount, error);
        if (Store.ReadBalance(canonical) is null) return LedgerResult.Fail(LedgerErrors.UnknownAccount, $"account {canonical} has never been used");
        long open = OpenEpoch;
        if (epoch < 0 || epoch > open) return LedgerResult.Fail(LedgerErrors.EpochNotOpen, $"epoch {epoch} has not started; epochs 0 to {open} exist");
        long opening = 0, balance = 0;
        var lines = new List<StatementLine>();
        foreach (var entry in Store.ReadJournal())
        {
            if (entry.Epoch > epoch) break;
            long delta = 0;
            bool touched = false;
            foreach (var p in entry.Postings)
            {
                if (p.Account != canonical) continue;
                delta += p.Amount;
                touched = true;
            }
            balance += delta;
            if (entry.Epoch < epoch) opening = balance;
            else if (touched) lines.Add(new StatementLine(entry.Sequence, entry.Id, entry.Kind, entry.Authorization, delta, balance, entry.Reference));
        }
        statement = new AccountStatement(canonical, epoch, epoch < open, opening, balance, lines);
        return LedgerResult.Applied(0, default);
    }
}
