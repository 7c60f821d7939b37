namespace Cairn.Ledger.Storage;

/// <summary>
/// Where the journal and its projection live. Two implementations with the same behaviour:
/// <see cref="SqliteLedgerStore"/> (one file, WAL) and <see cref="PostgresLedgerStore"/> (several gateways at once).
/// </summary>
public interface ILedgerStore : IDisposable
{
    /// <summary>A human-readable name of the store (file path or host/database), for messages.</summary>
    string Description { get; }

    /// <summary>
    /// Runs <paramref name="body"/> in one serialized write transaction and commits it. The body may run more than once
    /// (after a serialization failure), so it must not have effects outside the transaction.
    /// </summary>
    T Write<T>(Func<ILedgerTransaction, T> body);

    LedgerHead ReadHead();

    /// <summary>The whole journal in sequence order, as stored (nothing recomputed), streamed.</summary>
    IEnumerable<Journal.LedgerEntry> ReadJournal();

    IReadOnlyList<AccountBalance> ReadBalances();

    IReadOnlyList<HoldRecord> ReadHolds();

    IReadOnlyList<EpochRecord> ReadEpochs();

    long? ReadBalance(string account);

    /// <summary>Every registered contribution, in journal order.</summary>
    IReadOnlyList<StoredContribution> ReadContributions();
}
