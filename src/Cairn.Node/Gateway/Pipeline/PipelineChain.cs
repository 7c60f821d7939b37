using Cairn.Node.Rpc;

namespace Cairn.Node.Gateway.Pipeline;

/// <summary>
/// Chooses a chain of stage providers that covers every layer of a model, contiguously, from the stages that providers
/// announced (<c>cairn node --layers A:B</c>). The plan is given by what the stages serve; this picks among the
/// announced ranges: the fewest stages first, then the least loaded and fastest provider for each range. Stages that
/// failed for the request are excluded, so a failover re-plans on the survivors. (The planner that decides which
/// layers each device should serve is <c>cairn plan</c>.)
/// </summary>
public static class PipelineChain
{
    public static bool Serves(ModelInfo m, string model) => m.LayerEnd > 0 && (m.Name == model || Convert.ToHexStringLower(m.Hash.Span) == model);

    /// <summary>Whether any provider announces a stage of <paramref name="model"/>.</summary>
    public static bool Known(ProviderDirectory directory, string model) =>
        directory.All().Any(p => p.Announcement.Models.Any(m => Serves(m, model)));

    /// <summary>A covering chain of healthy, eligible stages not in <paramref name="exclude"/>, or null if none covers the model.</summary>
    public static IReadOnlyList<PipelineStage>? Choose(ProviderDirectory directory, string model, IReadOnlySet<string> exclude)
    {
        var candidates = directory.Healthy()
            .Where(p => !exclude.Contains(p.Id) && (directory.Eligible?.Invoke(p.Id) ?? true))
            .SelectMany(p => p.Announcement.Models.Where(m => Serves(m, model) && m.LayerStart >= 0 && m.LayerEnd <= m.LayerCount && m.LayerStart < m.LayerEnd)
                .Select(m => new PipelineStage(p, m)))
            .ToList();
        // Every stage of a chain must serve the same file (hash) and agree on its shape.
        foreach (var group in candidates.GroupBy(s => (Convert.ToHexStringLower(s.Model.Hash.Span), s.Model.LayerCount, s.Model.Dim)).OrderBy(g => g.Key.Item1, StringComparer.Ordinal))
        {
            var byStart = group.ToLookup(s => s.Start);
            var chain = new List<PipelineStage>();
            var dead = new HashSet<int>();
            if (Extend(byStart, 0, group.Key.LayerCount, chain, dead)) return chain;
        }
        return null;
    }

    private static bool Extend(ILookup<int, PipelineStage> byStart, int from, int layers, List<PipelineStage> chain, HashSet<int> dead)
    {
        if (from == layers) return true;
        if (dead.Contains(from)) return false;
        var options = byStart[from]
            .OrderByDescending(s => s.End)
            .ThenBy(s => (s.Provider.Active + 1) / Math.Max(s.Provider.Announcement.DecodeTokS, 1e-3))
            .ThenBy(s => s.Provider.Id, StringComparer.Ordinal);
        foreach (var stage in options)
        {
            if (chain.Any(c => c.Provider.Id == stage.Provider.Id)) continue;
            chain.Add(stage);
            if (Extend(byStart, stage.End, layers, chain, dead)) return true;
            chain.RemoveAt(chain.Count - 1);
        }
        dead.Add(from);
        return false;
    }
}
