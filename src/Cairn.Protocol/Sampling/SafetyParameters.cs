using System.Numerics;

namespace Cairn.Protocol.Sampling;

/// <summary>
/// The economic parameters of Proof of Sampling (DESIGN.md §4.5). Amounts are integers in the ledger's smallest unit;
/// probabilities are <see cref="Probability"/> (parts per million), so the safety test is exact integer arithmetic.
/// <para>
/// A cheating asserter saves at most <see cref="Cost"/> (C, the compute of honest work on one request). It is caught
/// with probability <c>q = p(1 − r)</c>; when caught it loses the reward it would have been paid, <see cref="AsserterReward"/>
/// (R = R_A: the "R" of the condition is the asserter's reward, because the condition is about the asserter's choice),
/// and its slash <see cref="Slash"/> (S). Honesty is the unique best strategy iff <c>p (1 − r)(R_A + S) &gt; C</c>.
/// </para>
/// </summary>
public sealed record SafetyParameters
{
    /// <summary>p: the chance that a receipt is challenged.</summary>
    public required Probability ChallengeProbability { get; init; }
    /// <summary>n: validators per challenge.</summary>
    public int Validators { get; init; } = 1;
    /// <summary>R_A: paid to the asserter of a challenged receipt that matches.</summary>
    public required ulong AsserterReward { get; init; }
    /// <summary>R_V: paid to the validators of a challenge, shared R_V / n.</summary>
    public ulong ValidatorReward { get; init; }
    /// <summary>S: taken from the loser of a dispute.</summary>
    public required ulong Slash { get; init; }
    /// <summary>Minimum stake to serve or validate; at least S, or a slash could not be collected.</summary>
    public ulong MinimumStake { get; init; }
    /// <summary>r: the assumed share of colluding stake (a colluding validator never reports its partner).</summary>
    public Probability Collusion { get; init; } = Probability.Zero;
    /// <summary>C: the cost of honest work that cheating would save, per request.</summary>
    public required ulong Cost { get; init; }

    /// <summary><c>p (1 − r)(R_A + S) − C</c>, exactly, scaled by 10^12 (two parts-per-million factors).</summary>
    public BigInteger ScaledMargin() => ScaledMargin(ChallengeProbability);

    public BigInteger ScaledMargin(Probability p) =>
        (BigInteger)p.PartsPerMillion * (Probability.Scale - Collusion.PartsPerMillion) * ((BigInteger)AsserterReward + Slash)
        - (BigInteger)Cost * Probability.Scale * Probability.Scale;

    /// <summary>The margin <c>p (1 − r)(R_A + S) − C</c> in units (rounded toward zero to 10^-12).</summary>
    public decimal Margin(Probability p) => (decimal)ScaledMargin(p) / 1_000_000_000_000m;

    /// <summary>True iff <c>p (1 − r)(R_A + S) &gt; C</c>.</summary>
    public bool IsSafe => ScaledMargin() > 0;

    /// <summary>The smallest p (in whole parts per million) that is safe with the other values, or null if even p = 1 is not.</summary>
    public Probability? SmallestSafeP()
    {
        var perPpm = (BigInteger)(Probability.Scale - Collusion.PartsPerMillion) * ((BigInteger)AsserterReward + Slash);
        if (perPpm.IsZero) return null;
        var ppm = (BigInteger)Cost * Probability.Scale * Probability.Scale / perPpm + 1; // strictly greater
        return ppm > Probability.Scale ? null : new Probability((uint)ppm);
    }

    /// <summary>Every rule the values break, as sentences (empty when the parameters may be used).</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Validators < 1) problems.Add($"n = {Validators}: at least one validator is needed");
        if (MinimumStake < Slash) problems.Add($"minimum stake {MinimumStake} is below the slash {Slash}: a slash could not be collected");
        if (!IsSafe)
        {
            var smallest = SmallestSafeP();
            problems.Add($"p (1 − r)(R_A + S) = {ChallengeProbability} × (1 − {Collusion}) × ({AsserterReward} + {Slash}) does not exceed C = {Cost}: cheating pays; "
                + (smallest is { } s ? $"the smallest safe p is {s}" : "no p ≤ 100% is safe; raise R_A or S"));
        }
        return problems;
    }
}
