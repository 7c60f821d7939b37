using System.Data;
using System.Data.Common;
using Cairn.Ledger.Journal;
using Cairn.Protocol.Crypto;

namespace Cairn.Ledger.Storage;

/// <summary>
/// The schema and queries both backends share (plain SQL that SQLite and PostgreSQL both accept). Schema, version 2:
/// <code>
/// ledger_meta(key PK, value)                         schema_version = 1
/// ledger_head(one PK = 1, seq, hash, epoch)          the chain's end and the open epoch; every writer locks this row
/// ledger_entries(seq PK, id UNIQUE, kind, epoch, authorizing, subject, reference, unlock_epoch, content_hash, prev_hash, hash)
/// ledger_postings(seq, idx, account, amount)         PK (seq, idx); index (account, seq)
/// ledger_balances(account PK, balance)               projection: Σ postings per account
/// ledger_holds(hold_id PK, client, amount, closed_seq NULL)   projection of Hold / Settle / Release entries
/// ledger_epochs(epoch PK, root, close_seq)            projection of EpochClose entries
/// ledger_contributions(hash PK, seq UNIQUE, kind, name, file_sha256 UNIQUE, base_sha256, message)
///                                                    the signed ContributionEntry bytes of ContributionPublished entries
/// </code>
/// Version 2 added <c>ledger_contributions</c>; a version-1 ledger is upgraded when it is opened (the table is created
/// empty, since version 1 had no contributions, and the version set to 2).
/// </summary>
public abstract class SqlLedgerStore : ILedgerStore
{
    public const int SchemaVersion = 2;
    private const int MaxAttempts = 50;

    public abstract string Description { get; }

    protected abstract DbConnection OpenConnection();

    /// <summary>Begins a transaction that holds the ledger's writer lock once this returns.</summary>
    protected abstract DbTransaction BeginWrite(DbConnection connection);

    /// <summary>Serialization failures, deadlocks, busy databases: worth running the transaction again.</summary>
    protected abstract bool IsTransient(Exception e);

    protected abstract string IntegerType { get; }
    protected abstract string BlobType { get; }

    /// <summary>True when this database (schema) already holds a ledger.</summary>
    protected abstract bool SchemaExists(DbConnection connection, DbTransaction transaction);

    /// <summary>
    /// Creates the tables unless they exist, then checks the schema version. Existing tables are not touched: DDL on a
    /// live ledger (CREATE INDEX IF NOT EXISTS still locks its table) could deadlock with gateways already writing.
    /// </summary>
    protected void CreateSchema(DbConnection connection, DbTransaction transaction)
    {
        if (!SchemaExists(connection, transaction)) CreateTables(connection, transaction);
        string? version = Scalar(connection, transaction, "SELECT value FROM ledger_meta WHERE key = 'schema_version'") as string;
        if (version == "1")
        {
            Execute(connection, transaction, ContributionsTable);
            Execute(connection, transaction, "UPDATE ledger_meta SET value = '2' WHERE key = 'schema_version'");
            version = "2";
        }
        if (version != SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture))
            throw new InvalidOperationException($"{Description}: ledger schema version {version}; this build reads version {SchemaVersion}");
    }

    private void CreateTables(DbConnection connection, DbTransaction transaction)
    {
        string i = IntegerType, b = BlobType;
        string[] ddl =
        [
            "CREATE TABLE IF NOT EXISTS ledger_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            $"CREATE TABLE IF NOT EXISTS ledger_head (one {i} PRIMARY KEY CHECK (one = 1), seq {i} NOT NULL, hash {b} NOT NULL, epoch {i} NOT NULL)",
            $"CREATE TABLE IF NOT EXISTS ledger_entries (seq {i} PRIMARY KEY, id TEXT NOT NULL UNIQUE, kind {i} NOT NULL, epoch {i} NOT NULL, authorizing {b} NOT NULL, subject TEXT NOT NULL, reference TEXT NOT NULL, unlock_epoch {i} NOT NULL, content_hash {b} NOT NULL, prev_hash {b} NOT NULL, hash {b} NOT NULL)",
            $"CREATE TABLE IF NOT EXISTS ledger_postings (seq {i} NOT NULL, idx {i} NOT NULL, account TEXT NOT NULL, amount {i} NOT NULL, PRIMARY KEY (seq, idx))",
            "CREATE INDEX IF NOT EXISTS ledger_postings_account ON ledger_postings (account, seq)",
            "CREATE INDEX IF NOT EXISTS ledger_entries_epoch ON ledger_entries (epoch, seq)",
            $"CREATE TABLE IF NOT EXISTS ledger_balances (account TEXT PRIMARY KEY, balance {i} NOT NULL)",
            $"CREATE TABLE IF NOT EXISTS ledger_holds (hold_id TEXT PRIMARY KEY, client TEXT NOT NULL, amount {i} NOT NULL, closed_seq {i})",
            $"CREATE TABLE IF NOT EXISTS ledger_epochs (epoch {i} PRIMARY KEY, root {b} NOT NULL, close_seq {i} NOT NULL)",
            ContributionsTable,
        ];
        foreach (string sql in ddl) Execute(connection, transaction, sql);
        Execute(connection, transaction, "INSERT INTO ledger_meta (key, value) VALUES ('schema_version', @v) ON CONFLICT (key) DO NOTHING", ("@v", SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Execute(connection, transaction, "INSERT INTO ledger_head (one, seq, hash, epoch) VALUES (1, 0, @h, 0) ON CONFLICT (one) DO NOTHING", ("@h", new byte[Hash256.Size]));
    }

    private string ContributionsTable =>
        $"CREATE TABLE IF NOT EXISTS ledger_contributions (hash {BlobType} PRIMARY KEY, seq {IntegerType} NOT NULL UNIQUE, kind {IntegerType} NOT NULL, " +
        $"name TEXT NOT NULL, file_sha256 {BlobType} NOT NULL UNIQUE, base_sha256 {BlobType} NOT NULL, message {BlobType} NOT NULL)";

    public T Write<T>(Func<ILedgerTransaction, T> body)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                using var connection = OpenConnection();
                using var transaction = BeginWrite(connection);
                var tx = new SqlTransaction(this, connection, transaction);
                T result = body(tx);
                transaction.Commit();
                return result;
            }
            catch (Exception e) when (attempt < MaxAttempts && IsTransient(e))
            {
                Thread.Sleep(Random.Shared.Next(1, 5 * Math.Min(attempt, 20)));
            }
        }
    }

    public LedgerHead ReadHead() => Read(c => SqlTransaction.ReadHead(c, null));

    public long? ReadBalance(string account) => Read(c => SqlTransaction.ReadBalance(c, null, account));

    public IEnumerable<LedgerEntry> ReadJournal()
    {
        using var connection = OpenConnection();
        using var entries = Command(connection, null, "SELECT seq, id, kind, epoch, authorizing, subject, reference, unlock_epoch, prev_hash, hash FROM ledger_entries ORDER BY seq");
        using var postingsConnection = OpenConnection();
        using var postings = Command(postingsConnection, null, "SELECT seq, account, amount FROM ledger_postings ORDER BY seq, idx");
        using var er = entries.ExecuteReader();
        using var pr = postings.ExecuteReader();
        bool havePosting = pr.Read();
        while (er.Read())
        {
            long seq = er.GetInt64(0);
            var list = new List<Posting>();
            while (havePosting && pr.GetInt64(0) < seq) havePosting = pr.Read(); // orphan postings: the verifier finds them through balances
            while (havePosting && pr.GetInt64(0) == seq)
            {
                list.Add(new Posting(pr.GetString(1), pr.GetInt64(2)));
                havePosting = pr.Read();
            }
            yield return new LedgerEntry
            {
                Sequence = seq,
                Id = er.GetString(1),
                Kind = (EntryKind)er.GetInt64(2),
                Epoch = er.GetInt64(3),
                Authorization = ToHash(er, 4),
                Subject = er.GetString(5),
                Reference = er.GetString(6),
                UnlockEpoch = er.GetInt64(7),
                Previous = ToHash(er, 8),
                Hash = ToHash(er, 9),
                Postings = list,
            };
        }
    }

    public IReadOnlyList<AccountBalance> ReadBalances() => Read(c =>
        ReadAll(c, "SELECT account, balance FROM ledger_balances ORDER BY account", r => new AccountBalance(r.GetString(0), r.GetInt64(1))));

    public IReadOnlyList<HoldRecord> ReadHolds() => Read(c =>
        ReadAll(c, "SELECT hold_id, client, amount, closed_seq FROM ledger_holds ORDER BY hold_id",
            r => new HoldRecord(r.GetString(0), r.GetString(1), r.GetInt64(2), r.IsDBNull(3) ? null : r.GetInt64(3))));

    public IReadOnlyList<EpochRecord> ReadEpochs() => Read(c =>
        ReadAll(c, "SELECT epoch, root, close_seq FROM ledger_epochs ORDER BY epoch", r => new EpochRecord(r.GetInt64(0), ToHash(r, 1), r.GetInt64(2))));

    public IReadOnlyList<StoredContribution> ReadContributions() => Read(c =>
        ReadAll(c, "SELECT seq, hash, message FROM ledger_contributions ORDER BY seq", ReadContribution));

    internal static StoredContribution ReadContribution(DbDataReader r) => new(r.GetInt64(0), ToHash(r, 1), (byte[])r.GetValue(2));

    public virtual void Dispose() => GC.SuppressFinalize(this);

    private T Read<T>(Func<DbConnection, T> body)
    {
        using var connection = OpenConnection();
        return body(connection);
    }

    private static List<T> ReadAll<T>(DbConnection c, string sql, Func<DbDataReader, T> row)
    {
        using var command = Command(c, null, sql);
        using var reader = command.ExecuteReader();
        var list = new List<T>();
        while (reader.Read()) list.Add(row(reader));
        return list;
    }

    internal static Hash256 ToHash(DbDataReader reader, int ordinal) => new((byte[])reader.GetValue(ordinal));

    internal static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var p = command.CreateParameter();
            p.ParameterName = name;
            p.Value = value ?? DBNull.Value;
            command.Parameters.Add(p);
        }
        return command;
    }

    internal static int Execute(DbConnection c, DbTransaction? t, string sql, params (string, object?)[] parameters)
    {
        using var command = Command(c, t, sql, parameters);
        return command.ExecuteNonQuery();
    }

    internal static object? Scalar(DbConnection c, DbTransaction? t, string sql, params (string, object?)[] parameters)
    {
        using var command = Command(c, t, sql, parameters);
        object? value = command.ExecuteScalar();
        return value is DBNull ? null : value;
    }
}
