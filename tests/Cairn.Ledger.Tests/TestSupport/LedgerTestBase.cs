using Cairn.Ledger.Economics;
using Cairn.Ledger.Storage;
using Cairn.Ledger.Verification;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;

namespace Cairn.Ledger.Tests.TestSupport;

/// <summary>
/// The shared suite's plumbing: every test class that derives from it runs once per backend, through a subclass that
/// picks <see cref="LedgerBackend.Sqlite"/> or <see cref="LedgerBackend.Postgres"/>. The database is created lazily inside
/// the test, so a missing PostgreSQL is reported as a skip (or, under CI, a failure) of that test.
/// </summary>
public abstract class LedgerTestBase : IDisposable
{
    private LedgerBackend? _backend;
    private ILedgerStore? _store;

    protected abstract LedgerBackend CreateBackend();

    protected LedgerBackend Backend => _backend ??= CreateBackend();

    protected ILedgerStore Store => _store ??= Backend.Open();

    protected virtual LedgerOptions Options => new() { MinimumStake = 10_000, UnbondingDelayEpochs = 2, PayoutThreshold = 1_000 };

    protected LedgerBook Book => new(Store, Options);

    protected static Address Party(int n) => Simulation.LedgerWorkload.Party(n);

    protected static Hash256 Auth(string text) => Keccak256.Hash(System.Text.Encoding.UTF8.GetBytes(text));

    protected static void Ok(LedgerResult result) => Assert.True(result.IsOk && !result.Replayed, $"expected a new entry, got {result}");

    protected static void Fails(string code, LedgerResult result)
    {
        Assert.False(result.IsOk, $"expected {code}, got {result}");
        Assert.Equal(code, result.Code);
        Assert.False(string.IsNullOrWhiteSpace(result.Message));
    }

    protected void AssertConsistent()
    {
        var report = LedgerVerifier.Verify(Store);
        Assert.True(report.IsConsistent, report.ToString());
    }

    public void Dispose()
    {
        _store?.Dispose();
        _backend?.Dispose();
        GC.SuppressFinalize(this);
    }
}
