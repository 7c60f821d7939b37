using Cairn.Protocol.Identity;

namespace Cairn.Ledger.Economics;

/// <summary>
/// Who is paid from a settled fee: the provider that answered, and either the fee split's fixed shares for a base
/// model's owner and the adapters' authors (either may be absent), or — when <see cref="Royalties"/> is set — each
/// registered contribution's own basis points (docs/contributions.md).
/// </summary>
public sealed record SettlementParties(Address Provider, Address? ModelOwner = null, IReadOnlyList<Address>? AdapterAuthors = null)
{
    /// <summary>
    /// The registered royalties of the model and adapters the request used (from the contributions registry). When set,
    /// each gets ⌊fee × bps / 10,000⌋, the validator pool and the treasury their shares of the split, and the provider the
    /// rest; <see cref="ModelOwner"/> and <see cref="AdapterAuthors"/> are then ignored.
    /// </summary>
    public IReadOnlyList<RoyaltyShare>? Royalties { get; init; }

    /// <summary>
    /// A pipelined request (docs/pipeline.md): the stages that served it, in layer order. When set, the provider's share
    /// is split across them in proportion to the layers each served — stage k gets ⌊share × layers_k / Σ layers⌋ and the
    /// last stage (the one that sampled, <see cref="Provider"/>) also every rounding remainder — instead of all going to
    /// <see cref="Provider"/>. A provider named twice gets the sum of its shares.
    /// </summary>
    public IReadOnlyList<StageShare>? Stages { get; init; }
}

/// <summary>A pipeline stage's claim on a fee: its provider and how many layers it served.</summary>
public sealed record StageShare(Address Provider, int Layers);
