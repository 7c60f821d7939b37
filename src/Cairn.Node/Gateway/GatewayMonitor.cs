namespace Cairn.Node.Gateway;

/// <summary>
/// The gateway's clockwork: every heartbeat interval each known provider's uptime is scored (did a heartbeat arrive?),
/// and every <see cref="GatewayOptions.EpochLength"/> the ledger's epoch is closed (payouts, Merkle root).
/// </summary>
public sealed class GatewayMonitor(ProviderDirectory directory, GatewayLedger ledger, ChallengeService challenges, GatewayOptions options, TimeProvider time,
    ILogger<GatewayMonitor> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var epochStarted = time.GetUtcNow();
        using var timer = new PeriodicTimer(ProviderDirectory.HeartbeatInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var now = time.GetUtcNow();
                foreach (var p in directory.All())
                    directory.Reputation.RecordHeartbeatInterval(p.Id, now - p.LastSeen <= ProviderDirectory.HeartbeatInterval * 2);
                if (now - epochStarted >= options.EpochLength)
                {
                    epochStarted = now;
                    var (epoch, root) = ledger.CloseEpoch();
                    GatewayLog.EpochClosed(log, epoch, root.ToString());
                    challenges.EpochClosed(epoch);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
