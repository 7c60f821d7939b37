using System.CommandLine;
using System.Globalization;
using Cairn.Protocol.Sampling;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn posp plan</c>: the safe region of Proof of Sampling parameters, <c>p (1 − r)(R_A + S) &gt; C</c> (DESIGN.md §4.5).</summary>
public static class PospCommand
{
    private static readonly uint[] TablePpm = [1_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000];

    public static Command Create()
    {
        var cost = new Option<ulong>("--cost") { Description = "C: the cost of honest work on one request (ledger units)", Required = true };
        var reward = new Option<ulong>("--reward") { Description = "R_A: the asserter's reward when a challenge matches (ledger units)", Required = true };
        var slash = new Option<ulong>("--slash") { Description = "S: the slash of a dispute's loser (ledger units)", Required = true };
        var collusion = new Option<string>("--collusion") { Description = "r: assumed share of colluding stake, as 0.2 or 20%", DefaultValueFactory = _ => "0" };
        var plan = new Command("plan", "Print the challenge probabilities p for which honesty is the best strategy, and the smallest safe p")
        {
            cost, reward, slash, collusion,
        };
        plan.SetAction(parse => CliErrors.Run(() =>
        {
            Probability r;
            try { r = Probability.Parse(parse.GetValue(collusion)!); }
            catch (FormatException e) { throw new ArgumentException($"--collusion: {e.Message}"); }
            var parameters = new SafetyParameters
            {
                ChallengeProbability = Probability.Zero,
                AsserterReward = parse.GetValue(reward),
                Slash = parse.GetValue(slash),
                Cost = parse.GetValue(cost),
                Collusion = r,
            };
            Console.Out.Write(Render(parameters));
            return 0;
        }));
        return new Command("posp", "Proof of Sampling tools") { plan };
    }

    /// <summary>The table and the smallest safe p, as printed.</summary>
    public static string Render(SafetyParameters parameters)
    {
        var inv = CultureInfo.InvariantCulture;
        var w = new StringWriter(inv);
        w.WriteLine($"condition: p × (1 − r) × (R_A + S) > C   with C = {parameters.Cost}, R_A = {parameters.AsserterReward}, S = {parameters.Slash}, r = {parameters.Collusion}");
        var smallest = parameters.SmallestSafeP();
        var rows = TablePpm.Select(p => new Probability(p)).ToList();
        if (smallest is { } sp && !rows.Contains(sp)) rows.Add(sp);
        rows.Sort((a, b) => a.PartsPerMillion.CompareTo(b.PartsPerMillion));
        w.WriteLine($"{"p",10}  {"margin p(1-r)(R+S)-C",24}  safe");
        foreach (var p in rows)
        {
            var margin = parameters.Margin(p);
            bool safe = (parameters with { ChallengeProbability = p }).IsSafe;
            w.WriteLine($"{p,10}  {margin.ToString("0.####", inv),24}  {(safe ? "yes" : "no")}{(p == smallest ? "   <- smallest safe p" : "")}");
        }
        w.WriteLine(smallest is { } s
            ? $"smallest safe p: {s} ({s.PartsPerMillion} ppm)"
            : "smallest safe p: none — even p = 100% does not deter cheating; raise R_A or S");
        return w.ToString();
    }
}
