using System.Data;
using System.Data.Common;
using Npgsql;

namespace Cairn.Ledger.Storage;

/// <summary>
/// PostgreSQL, for several gateways writing to one ledger. Every write transaction starts by locking the single
/// <c>ledger_head</c> row (<c>SELECT … FOR UPDATE</c>): writers are serialized, so the chain has one order and each
/// balance check reads the latest committed balances (READ COMMITTED sees them once the lock is granted). Serialization
/// failures and deadlocks (SQLSTATE 40001, 40P01) and dropped connections are retried.
/// </summary>
public sealed class PostgresLedgerStore : SqlLedgerStore
{
    private readonly NpgsqlDataSource _dataSource;

    public PostgresLedgerStore(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        Description = $"postgres {builder.Host}:{builder.Port}/{builder.Database}" + (builder.SearchPath is { Length: > 0 } s ? $" (schema {s})" : "");
        _dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        using var connection = OpenConnection();
        using var transaction = connection.BeginTransaction(IsolationLevel.ReadCommitted);
        // Two gateways starting at once must not race on CREATE TABLE IF NOT EXISTS (it is not atomic in PostgreSQL).
        Execute(connection, transaction, "SELECT pg_advisory_xact_lock(7316851297730410561)");
        CreateSchema(connection, transaction);
        transaction.Commit();
    }

    public override string Description { get; }

    protected override string IntegerType => "BIGINT";
    protected override string BlobType => "BYTEA";

    protected override bool SchemaExists(DbConnection connection, DbTransaction transaction) =>
        Scalar(connection, transaction, "SELECT to_regclass('ledger_meta') IS NOT NULL") is true;

    protected override DbConnection OpenConnection() => _dataSource.OpenConnection();

    protected override DbTransaction BeginWrite(DbConnection connection)
    {
        var transaction = ((NpgsqlConnection)connection).BeginTransaction(IsolationLevel.ReadCommitted);
        Execute(connection, transaction, "SELECT seq FROM ledger_head WHERE one = 1 FOR UPDATE");
        return transaction;
    }

    protected override bool IsTransient(Exception e) =>
        e is PostgresException { SqlState: "40001" or "40P01" } || e is NpgsqlException { IsTransient: true };

    public override void Dispose()
    {
        _dataSource.Dispose();
        base.Dispose();
    }
}
