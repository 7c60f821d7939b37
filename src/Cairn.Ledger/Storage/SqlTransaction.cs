using System.Data.Common;
using Cairn.Ledger.Journal;
using Cairn.Protocol.Crypto;

namespace Cairn.Ledger.Storage;

/// <summary><see cref="ILedgerTransaction"/> over ADO.NET, shared by both SQL backends.</summary>
internal sealed class SqlTransaction(SqlLedgerStore store, DbConnection connection, DbTransaction transaction) : ILedgerTransaction
{
    private LedgerHead? _head;

    public LedgerHead Head => _head ??= ReadHead(connection, transaction);

    public long? Balance(string account) => ReadBalance(connection, transaction, account);

    public StoredEntry? FindEntry(string id)
    {
        using var command = SqlLedgerStore.Command(connection, transaction, "SELECT seq, content_hash, hash FROM ledger_entries WHERE id = @id", ("@id", id));
        using var reader = command.ExecuteReader();
        return reader.Read() ? new StoredEntry(reader.GetInt64(0), SqlLedgerStore.ToHash(reader, 1), SqlLedgerStore.ToHash(reader, 2)) : null;
    }

    public HoldRecord? FindHold(string holdId)
    {
        using var command = SqlLedgerStore.Command(connection, transaction, "SELECT client, amount, closed_seq FROM ledger_holds WHERE hold_id = @id", ("@id", holdId));
        using var reader = command.ExecuteReader();
        return reader.Read() ? new HoldRecord(holdId, reader.GetString(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetInt64(2)) : null;
    }

    public long PendingUnbonding(string unbondingAccount, long epoch) => Convert.ToInt64(SqlLedgerStore.Scalar(connection, transaction,
        "SELECT CAST(COALESCE(SUM(p.amount), 0) AS BIGINT) FROM ledger_entries e JOIN ledger_postings p ON p.seq = e.seq " +
        "WHERE e.kind = @kind AND p.account = @account AND e.unlock_epoch > @epoch",
        ("@kind", (long)EntryKind.Unbond), ("@account", unbondingAccount), ("@epoch", epoch)), System.Globalization.CultureInfo.InvariantCulture);

    public IReadOnlyList<AccountBalance> BalancesWithPrefix(string prefix)
    {
        using var command = SqlLedgerStore.Command(connection, transaction,
            "SELECT account, balance FROM ledger_balances WHERE substr(account, 1, @n) = @prefix", ("@n", prefix.Length), ("@prefix", prefix));
        using var reader = command.ExecuteReader();
        var list = new List<AccountBalance>();
        while (reader.Read()) list.Add(new AccountBalance(reader.GetString(0), reader.GetInt64(1)));
        list.Sort((a, b) => string.CompareOrdinal(a.Account, b.Account));
        return list;
    }

    public IReadOnlyList<Hash256> EntryHashes(long epoch)
    {
        using var command = SqlLedgerStore.Command(connection, transaction, "SELECT hash FROM ledger_entries WHERE epoch = @e ORDER BY seq", ("@e", epoch));
        using var reader = command.ExecuteReader();
        var list = new List<Hash256>();
        while (reader.Read()) list.Add(SqlLedgerStore.ToHash(reader, 0));
        return list;
    }

    public StoredContribution? FindContributionByFile(Hash256 fileSha256) =>
        FindContribution("file_sha256 = @f", ("@f", fileSha256.ToArray()));

    public StoredContribution? FindContributionByName(Cairn.Protocol.Messages.ContributionKind kind, string name) =>
        FindContribution("kind = @k AND name = @n", ("@k", (long)kind), ("@n", name));

    private StoredContribution? FindContribution(string where, params (string, object?)[] parameters)
    {
        using var command = SqlLedgerStore.Command(connection, transaction, "SELECT seq, hash, message FROM ledger_contributions WHERE " + where, parameters);
        using var reader = command.ExecuteReader();
        return reader.Read() ? SqlLedgerStore.ReadContribution(reader) : null;
    }

    public void RecordContribution(long sequence, Cairn.Protocol.Messages.ContributionEntry entry) =>
        SqlLedgerStore.Execute(connection, transaction,
            "INSERT INTO ledger_contributions (hash, seq, kind, name, file_sha256, base_sha256, message) VALUES (@h, @seq, @k, @n, @f, @b, @m)",
            ("@h", entry.Hash().ToArray()), ("@seq", sequence), ("@k", (long)entry.Kind), ("@n", entry.Name), ("@f", entry.FileSha256.ToArray()),
            ("@b", entry.BaseModel.ToArray()), ("@m", entry.Encode()));

    public void Append(LedgerEntry entry)
    {
        var head = Head;
        if (entry.Sequence != head.Sequence + 1 || entry.Previous != head.Hash)
            throw new InvalidOperationException($"{store.Description}: entry {entry.Id} is sealed at #{entry.Sequence} after {entry.Previous}, but the head is #{head.Sequence} {head.Hash}");
        SqlLedgerStore.Execute(connection, transaction,
            "INSERT INTO ledger_entries (seq, id, kind, epoch, authorizing, subject, reference, unlock_epoch, content_hash, prev_hash, hash) " +
            "VALUES (@seq, @id, @kind, @epoch, @auth, @subject, @ref, @unlock, @content, @prev, @hash)",
            ("@seq", entry.Sequence), ("@id", entry.Id), ("@kind", (long)entry.Kind), ("@epoch", entry.Epoch), ("@auth", entry.Authorization.ToArray()),
            ("@subject", entry.Subject), ("@ref", entry.Reference), ("@unlock", entry.UnlockEpoch), ("@content", entry.ContentHash().ToArray()),
            ("@prev", entry.Previous.ToArray()), ("@hash", entry.Hash.ToArray()));
        if (entry.Postings.Count > 0)
        {
            // One statement for the postings and one for the balances (deltas merged per account: an upsert may touch a row once).
            var rows = new List<string>();
            var values = new List<(string, object?)> { ("@seq", entry.Sequence) };
            for (int i = 0; i < entry.Postings.Count; i++)
            {
                rows.Add($"(@seq, {i}, @a{i}, @v{i})");
                values.Add(($"@a{i}", entry.Postings[i].Account));
                values.Add(($"@v{i}", entry.Postings[i].Amount));
            }
            SqlLedgerStore.Execute(connection, transaction, "INSERT INTO ledger_postings (seq, idx, account, amount) VALUES " + string.Join(", ", rows), [.. values]);
            var deltas = entry.Postings.GroupBy(p => p.Account, StringComparer.Ordinal).Select(g => (Account: g.Key, Delta: g.Sum(p => p.Amount))).ToList();
            rows.Clear();
            values.Clear();
            for (int i = 0; i < deltas.Count; i++)
            {
                rows.Add($"(@a{i}, @v{i})");
                values.Add(($"@a{i}", deltas[i].Account));
                values.Add(($"@v{i}", deltas[i].Delta));
            }
            SqlLedgerStore.Execute(connection, transaction,
                "INSERT INTO ledger_balances (account, balance) VALUES " + string.Join(", ", rows) +
                " ON CONFLICT (account) DO UPDATE SET balance = ledger_balances.balance + excluded.balance", [.. values]);
        }
        long epoch = head.Epoch;
        switch (entry.Kind)
        {
            case EntryKind.Hold:
                long amount = entry.Postings.Single(p => p.Account == Accounts.Account.Hold(entry.Reference)).Amount;
                SqlLedgerStore.Execute(connection, transaction, "INSERT INTO ledger_holds (hold_id, client, amount, closed_seq) VALUES (@id, @client, @amount, NULL)",
                    ("@id", entry.Reference), ("@client", entry.Subject), ("@amount", amount));
                break;
            case EntryKind.Settle or EntryKind.Release:
                SqlLedgerStore.Execute(connection, transaction, "UPDATE ledger_holds SET closed_seq = @seq WHERE hold_id = @id", ("@seq", entry.Sequence), ("@id", entry.Reference));
                break;
            case EntryKind.EpochClose:
                SqlLedgerStore.Execute(connection, transaction, "INSERT INTO ledger_epochs (epoch, root, close_seq) VALUES (@e, @root, @seq)",
                    ("@e", entry.Epoch), ("@root", entry.Authorization.ToArray()), ("@seq", entry.Sequence));
                epoch = entry.Epoch + 1;
                break;
        }
        SqlLedgerStore.Execute(connection, transaction, "UPDATE ledger_head SET seq = @seq, hash = @hash, epoch = @epoch WHERE one = 1",
            ("@seq", entry.Sequence), ("@hash", entry.Hash.ToArray()), ("@epoch", epoch));
        _head = new LedgerHead(entry.Sequence, entry.Hash, epoch);
    }

    internal static LedgerHead ReadHead(DbConnection c, DbTransaction? t)
    {
        using var command = SqlLedgerStore.Command(c, t, "SELECT seq, hash, epoch FROM ledger_head WHERE one = 1");
        using var reader = command.ExecuteReader();
        if (!reader.Read()) throw new InvalidOperationException("the ledger has no head row; the schema is damaged");
        return new LedgerHead(reader.GetInt64(0), SqlLedgerStore.ToHash(reader, 1), reader.GetInt64(2));
    }

    internal static long? ReadBalance(DbConnection c, DbTransaction? t, string account)
    {
        object? value = SqlLedgerStore.Scalar(c, t, "SELECT balance FROM ledger_balances WHERE account = @a", ("@a", account));
        return value is null ? null : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
