using Cairn.Ledger.Reputation;

namespace Cairn.Ledger.Tests;

public sealed class ReputationTests
{
    [Fact]
    public void A_newcomer_keeps_the_grace_floor_until_it_has_a_record()
    {
        var r = new ProviderReputation();
        for (int i = 0; i < ProviderReputation.GraceRequests - 1; i++) r.RecordRequest(false, TimeSpan.FromSeconds(1), 0);
        Assert.Equal(ProviderReputation.GraceFloor, r.Score);
        r.RecordRequest(false, TimeSpan.FromSeconds(1), 0);
        Assert.True(r.Score < 0.2, $"score {r.Score}");
    }

    [Fact]
    public void Failures_failed_challenges_and_missed_heartbeats_each_lower_the_score_and_recovery_raises_it()
    {
        var good = new ProviderReputation();
        for (int i = 0; i < 40; i++) good.RecordRequest(true, TimeSpan.FromSeconds(1), 10);
        Assert.Equal(1.0, good.Score, 6);
        Assert.Equal(0.1, good.SecondsPerToken, 6);

        var flaky = new ProviderReputation();
        for (int i = 0; i < 40; i++) flaky.RecordRequest(i % 2 == 0, TimeSpan.FromSeconds(1), 10);
        Assert.InRange(flaky.SuccessRate, 0.4, 0.6);

        var cheater = new ProviderReputation();
        for (int i = 0; i < 40; i++) cheater.RecordRequest(true, TimeSpan.FromSeconds(1), 10);
        cheater.RecordChallenge(false);
        Assert.Equal(0.9, cheater.Score, 6);

        var absent = new ProviderReputation();
        for (int i = 0; i < 40; i++) absent.RecordRequest(true, TimeSpan.FromSeconds(1), 10);
        for (int i = 0; i < 10; i++) absent.RecordHeartbeatInterval(false);
        double low = absent.Score;
        Assert.True(low < 0.4, $"score {low}");
        for (int i = 0; i < 30; i++) absent.RecordHeartbeatInterval(true);
        Assert.True(absent.Score > 0.9 && absent.Score > low);
    }

    [Fact]
    public void The_book_is_safe_to_update_from_many_threads()
    {
        var book = new ReputationBook();
        Parallel.For(0, 1000, i => book.RecordRequest("p" + (i % 4), true, TimeSpan.FromMilliseconds(10), 1));
        Assert.Equal(4, book.All.Count);
        Assert.All(book.All.Values, r => Assert.Equal(250, r.Requests));
    }
}
