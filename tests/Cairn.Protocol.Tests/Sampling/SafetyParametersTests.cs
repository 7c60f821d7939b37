using Cairn.Protocol.Sampling;

namespace Cairn.Protocol.Tests.Sampling;

public class SafetyParametersTests
{
    private static SafetyParameters Make(uint pPpm, ulong c = 100, ulong r = 1_000, ulong s = 9_000, uint collusionPpm = 0) => new()
    {
        ChallengeProbability = new Probability(pPpm),
        AsserterReward = r,
        Slash = s,
        Cost = c,
        Collusion = new Probability(collusionPpm),
        MinimumStake = s,
    };

    [Fact]
    public void Safe_iff_p_one_minus_r_times_r_plus_s_exceeds_c()
    {
        // (R + S) = 10 000, C = 100: safe iff p > 1%
        Assert.False(Make(10_000).IsSafe);          // exactly equal is not safe
        Assert.True(Make(10_001).IsSafe);
        Assert.False(Make(9_999).IsSafe);
        Assert.Equal(new Probability(10_001), Make(50_000).SmallestSafeP());
        // r = 50% doubles it
        Assert.False(Make(20_000, collusionPpm: 500_000).IsSafe);
        Assert.True(Make(20_001, collusionPpm: 500_000).IsSafe);
        Assert.Equal(new Probability(20_001), Make(1, collusionPpm: 500_000).SmallestSafeP());
    }

    [Fact]
    public void Smallest_safe_p_is_the_boundary_for_awkward_values()
    {
        for (ulong c = 1; c < 300; c += 7)
            for (uint r = 0; r < 900_000; r += 123_457)
            {
                var p = Make(0, c: c, r: 333, s: 4_444, collusionPpm: r).SmallestSafeP();
                Assert.NotNull(p);
                Assert.True(Make(p.Value.PartsPerMillion, c: c, r: 333, s: 4_444, collusionPpm: r).IsSafe);
                if (p.Value.PartsPerMillion > 0) Assert.False(Make(p.Value.PartsPerMillion - 1, c: c, r: 333, s: 4_444, collusionPpm: r).IsSafe);
            }
    }

    [Fact]
    public void No_p_is_safe_when_reward_and_slash_are_below_cost()
    {
        Assert.Null(Make(1_000_000, c: 10_000, r: 1_000, s: 9_000).SmallestSafeP()); // p = 1 gives exactly C
        Assert.Null(Make(1_000_000, collusionPpm: 1_000_000).SmallestSafeP());
        Assert.Contains(Make(1_000_000, c: 10_000).Problems(), p => p.Contains("no p"));
    }

    [Fact]
    public void Margin_and_problems()
    {
        Assert.Equal(400m, Make(50_000).Margin(new Probability(50_000))); // 0.05 × 10 000 − 100
        Assert.Empty(Make(50_000).Problems());
        Assert.Contains(Make(5_000).Problems(), p => p.Contains("smallest safe p is 1.0001%"));
        Assert.Contains((Make(50_000) with { MinimumStake = 1 }).Problems(), p => p.Contains("minimum stake"));
        Assert.Contains((Make(50_000) with { Validators = 0 }).Problems(), p => p.Contains("validator"));
    }

    [Fact]
    public void Huge_amounts_are_exact()
    {
        var s = Make(1, c: ulong.MaxValue, r: ulong.MaxValue, s: ulong.MaxValue);
        Assert.False(s.IsSafe);
        Assert.Equal(new Probability(500_001), s.SmallestSafeP());
    }
}
