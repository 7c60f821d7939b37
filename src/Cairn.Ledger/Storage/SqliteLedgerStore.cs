using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Cairn.Ledger.Storage;

/// <summary>
/// The embedded default: one SQLite file in WAL mode with <c>synchronous=FULL</c>, so a committed entry survives a
/// killed process and a power cut. Writers take SQLite's write lock at BEGIN (<c>BEGIN IMMEDIATE</c>), so several
/// processes may share the file; a busy database is waited on (busy_timeout) and retried.
/// </summary>
public sealed class SqliteLedgerStore : SqlLedgerStore
{
    /// <summary>The file name inside a gateway's data folder.</summary>
    public const string FileName = "ledger.db";

    private readonly string _connectionString;

    public SqliteLedgerStore(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        string? directory = System.IO.Path.GetDirectoryName(Path);
        if (directory is not null) Directory.CreateDirectory(directory);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = Path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, DefaultTimeout = 60 }.ToString();
        using var connection = OpenConnection();
        using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode=WAL";
            wal.ExecuteNonQuery();
        }
        using var transaction = BeginWrite(connection);
        CreateSchema(connection, transaction);
        transaction.Commit();
    }

    /// <summary>Opens (creating if needed) the ledger of a gateway data folder: <c>DIR/ledger.db</c>.</summary>
    public static SqliteLedgerStore OpenInDirectory(string directory) => new(System.IO.Path.Combine(directory, FileName));

    /// <summary>Opens an existing ledger file without creating one (for <c>cairn ledger verify</c>).</summary>
    public static SqliteLedgerStore OpenExisting(string path) =>
        File.Exists(path) ? new SqliteLedgerStore(path) : throw new FileNotFoundException($"no ledger at {System.IO.Path.GetFullPath(path)}", path);

    public string Path { get; }

    public override string Description => Path;

    protected override string IntegerType => "INTEGER";
    protected override string BlobType => "BLOB";

    protected override bool SchemaExists(DbConnection connection, DbTransaction transaction) =>
        Convert.ToInt64(Scalar(connection, transaction, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'ledger_meta'"), System.Globalization.CultureInfo.InvariantCulture) > 0;

    protected override DbConnection OpenConnection()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var pragmas = connection.CreateCommand();
        pragmas.CommandText = "PRAGMA synchronous=FULL; PRAGMA busy_timeout=60000; PRAGMA foreign_keys=OFF";
        pragmas.ExecuteNonQuery();
        return connection;
    }

    protected override DbTransaction BeginWrite(DbConnection connection) =>
        ((SqliteConnection)connection).BeginTransaction(IsolationLevel.Serializable, deferred: false); // BEGIN IMMEDIATE

    protected override bool IsTransient(Exception e) => e is SqliteException { SqliteErrorCode: 5 or 6 }; // SQLITE_BUSY, SQLITE_LOCKED

    public override void Dispose()
    {
        SqliteConnection.ClearPool(new SqliteConnection(_connectionString));
        base.Dispose();
    }
}
