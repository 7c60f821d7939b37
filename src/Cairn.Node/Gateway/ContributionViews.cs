using Cairn.Ledger.Storage;
using Cairn.Protocol.Messages;

namespace Cairn.Node.Gateway;

/// <summary>A registered contribution as JSON (<c>GET /v1/contributions</c>): every field of the signed entry, and its bytes.</summary>
internal static class ContributionViews
{
    public static ContributionView View(StoredContribution c)
    {
        var e = c.Entry;
        return new ContributionView(e.Kind == ContributionKind.Model ? "model" : "adapter", e.Name, c.Hash.ToString(), e.FileSha256.ToString(),
            e.Kind == ContributionKind.Adapter ? e.BaseModel.ToString() : null, e.RoyaltyBps, e.License, e.Payout.ToString(), e.Publisher.ToString(),
            e.Visibility == ContributionVisibility.Public ? "public" : "private", [.. e.AllowedProviders.Select(a => a.ToString())], c.Sequence,
            Convert.ToHexStringLower(c.Message));
    }
}
