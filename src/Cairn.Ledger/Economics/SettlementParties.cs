using Cairn.Protocol.Identity;

namespace Cairn.Ledger.Economics;

/// <summary>Who is paid from a settled fee: the provider that answered, the base model's owner and the adapters' authors (either may be absent).</summary>
public sealed record SettlementParties(Address Provider, Address? ModelOwner = null, IReadOnlyList<Address>? AdapterAuthors = null);
