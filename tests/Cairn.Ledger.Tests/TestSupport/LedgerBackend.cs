using System.Data.Common;
using Cairn.Ledger.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Cairn.Ledger.Tests.TestSupport;

/// <summary>
/// One real database for one test: a fresh SQLite file, or a fresh schema in the PostgreSQL that CAIRN_TEST_POSTGRES
/// names (.ci/run starts one). Without CAIRN_TEST_POSTGRES, PostgreSQL tests are skipped with the reason — except
/// under CI=true, where they fail: CI must never pass by skipping them.
/// </summary>
public abstract class LedgerBackend : IDisposable
{
    public const string PostgresVariable = "CAIRN_TEST_POSTGRES";

    public abstract string Name { get; }

    /// <summary>Opens a new store on this test's database (each call is a new handle on the same data, like a restart).</summary>
    public abstract ILedgerStore Open();

    /// <summary>Arguments naming this database for the <c>cairn ledger</c> CLI.</summary>
    public abstract string[] CliArguments { get; }

    /// <summary>Runs raw SQL against the database, behind the ledger's back (tampering).</summary>
    public abstract int ExecuteRaw(string sql);

    public abstract void Dispose();

    public static LedgerBackend Sqlite() => new SqliteBackend();

    public static LedgerBackend Postgres()
    {
        string? connection = Environment.GetEnvironmentVariable(PostgresVariable);
        if (string.IsNullOrEmpty(connection))
        {
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
                throw new InvalidOperationException($"{PostgresVariable} is not set, but CI=true: .ci/run must start PostgreSQL and export it");
            Skip.If(true, $"PostgreSQL tests need {PostgresVariable} (a connection string, e.g. \"Host=/tmp;Port=55432;Username=postgres;Database=postgres\"); .ci/run sets it");
        }
        return new PostgresBackend(connection!);
    }

    private sealed class SqliteBackend : LedgerBackend
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("cairn-ledger-").FullName;
        public string File => Path.Combine(_dir, "ledger.db");
        public override string Name => "sqlite";
        public override ILedgerStore Open() => new SqliteLedgerStore(File);
        public override string[] CliArguments => ["--sqlite", File];

        public override int ExecuteRaw(string sql)
        {
            using var c = new SqliteConnection($"Data Source={File};Pooling=False");
            c.Open();
            return Run(c, sql);
        }

        public override void Dispose()
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(_dir, recursive: true);
        }
    }

    private sealed class PostgresBackend : LedgerBackend
    {
        private readonly string _admin;
        private readonly string _schema = "cairn_test_" + Guid.NewGuid().ToString("N")[..16];
        private readonly string _connection;

        public PostgresBackend(string connection)
        {
            _admin = connection;
            using (var c = new NpgsqlConnection(_admin))
            {
                c.Open();
                Run(c, $"CREATE SCHEMA {_schema}");
            }
            _connection = new NpgsqlConnectionStringBuilder(_admin) { SearchPath = _schema }.ConnectionString;
        }

        public override string Name => "postgres";
        public override ILedgerStore Open() => new PostgresLedgerStore(_connection);
        public override string[] CliArguments => ["--postgres", _connection];

        public override int ExecuteRaw(string sql)
        {
            using var c = new NpgsqlConnection(_connection);
            c.Open();
            return Run(c, sql);
        }

        public override void Dispose()
        {
            NpgsqlConnection.ClearAllPools();
            using var c = new NpgsqlConnection(_admin);
            c.Open();
            Run(c, $"DROP SCHEMA {_schema} CASCADE");
        }
    }

    private static int Run(DbConnection c, string sql)
    {
        using var command = c.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteNonQuery();
    }
}
