using Cairn.Ledger.Accounts;
using Cairn.Protocol.Identity;

namespace Cairn.Node.Gateway.Dashboard;

/// <summary>Samples the ledger into <see cref="BalanceHistory"/> every <see cref="BalanceHistory.Interval"/>.</summary>
public sealed class BalanceSampler(ProviderDirectory directory, GatewayLedger ledger, GatewayOptions options, BalanceHistory history, TimeProvider time,
    ILogger<BalanceSampler> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(BalanceHistory.Interval, time);
        try
        {
            do
            {
                try
                {
                    history.Add(Sample());
                }
                catch (Exception e) when (e is InvalidOperationException or System.Data.Common.DbException)
                {
                    log.LogWarning(e, "the dashboard could not sample the ledger");
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
        }
    }

    public BalanceSample Sample()
    {
        var balances = new Dictionary<string, long>(StringComparer.Ordinal);
        var served = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var p in directory.All())
        {
            served[p.Id] = Interlocked.Read(ref p.Served);
            if (!Address.TryParse(p.Id, out var a, out _)) continue;
            balances[Account.ProviderStake(a)] = ledger.AccountBalance(Account.ProviderStake(a));
            balances[Account.ProviderEarnings(a)] = ledger.AccountBalance(Account.ProviderEarnings(a));
        }
        foreach (var client in options.ApiKeys.Values.Distinct()) balances[Account.Client(client)] = ledger.AccountBalance(Account.Client(client));
        foreach (string pool in new[] { Account.ValidatorPool, Account.Treasury, Account.Burn }) balances[pool] = ledger.AccountBalance(pool);
        // Contributors: the royalty account of every registered model's and adapter's payout address.
        foreach (var c in ledger.Book.Store.ReadContributions()) balances[Account.Royalty(c.Entry.Payout)] = ledger.AccountBalance(Account.Royalty(c.Entry.Payout));
        return new BalanceSample(time.GetUtcNow(), balances, served);
    }
}
