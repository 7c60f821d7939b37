using Cairn.Cli.Commands;
using Cairn.Protocol.Sampling;

namespace Cairn.Protocol.Tests.Sampling;

public class PospCommandTests
{
    [Fact]
    public void Plan_prints_the_table_and_the_smallest_safe_p()
    {
        var text = PospCommand.Render(new SafetyParameters { ChallengeProbability = Probability.Zero, Cost = 100, AsserterReward = 1_000, Slash = 9_000, Collusion = Probability.Parse("20%") });
        Assert.Contains("smallest safe p: 1.2501% (12501 ppm)", text);
        Assert.Matches(@"\n\s+1%\s+-20\s+no", text);
        Assert.Matches(@"\n\s+5%\s+300\s+yes", text);
        Assert.Matches(@"1.2501%\s+0.008\s+yes\s+<- smallest safe p", text);
    }

    [Fact]
    public void Plan_says_when_no_p_is_safe() =>
        Assert.Contains("smallest safe p: none", PospCommand.Render(new SafetyParameters { ChallengeProbability = Probability.Zero, Cost = 100, AsserterReward = 50, Slash = 50 }));

    [Theory]
    [InlineData(0, "plan", "--cost", "100", "--reward", "1000", "--slash", "9000", "--collusion", "0.2")]
    [InlineData(2, "plan", "--cost", "100", "--reward", "1000", "--slash", "9000", "--collusion", "2")]
    public void Plan_exit_codes(int expected, params string[] args) => Assert.Equal(expected, PospCommand.Create().Parse(args).Invoke());
}
