namespace Cairn.Ledger.Reputation;

/// <summary>
/// One provider's reputation (DESIGN.md §5), smoothed with exponential moving averages of weight
/// <see cref="Alpha"/> per observation: request success, latency per token, challenge results and uptime (heartbeats
/// seen per expected interval). <see cref="Score"/> = success × challenge pass rate × uptime, in [0, 1]; a newcomer's
/// score is at least <see cref="GraceFloor"/> for its first <see cref="GraceRequests"/> requests so it is not starved
/// before it has a record.
/// </summary>
public sealed class ProviderReputation
{
    public const double Alpha = 0.1;
    public const int GraceRequests = 20;
    public const double GraceFloor = 0.9;

    public double SuccessRate { get; private set; } = 1;
    /// <summary>Smoothed seconds per generated token; 0 until the first success.</summary>
    public double SecondsPerToken { get; private set; }
    public double ChallengePassRate { get; private set; } = 1;
    public double Uptime { get; private set; } = 1;
    public long Requests { get; private set; }
    public long Challenges { get; private set; }

    public double Score
    {
        get
        {
            double s = SuccessRate * ChallengePassRate * Uptime;
            return Requests < GraceRequests ? Math.Max(s, GraceFloor) : s;
        }
    }

    public void RecordRequest(bool success, TimeSpan elapsed, int tokens)
    {
        Requests++;
        SuccessRate = Smooth(SuccessRate, success ? 1 : 0);
        if (success && tokens > 0)
        {
            double perToken = elapsed.TotalSeconds / tokens;
            SecondsPerToken = SecondsPerToken == 0 ? perToken : Smooth(SecondsPerToken, perToken);
        }
    }

    public void RecordChallenge(bool passed)
    {
        Challenges++;
        ChallengePassRate = Smooth(ChallengePassRate, passed ? 1 : 0);
    }

    /// <summary>One expected heartbeat interval: whether the heartbeat arrived.</summary>
    public void RecordHeartbeatInterval(bool seen) => Uptime = Smooth(Uptime, seen ? 1 : 0);

    private static double Smooth(double current, double observation) => current + Alpha * (observation - current);
}
