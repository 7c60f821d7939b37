using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;

namespace Cairn.Ledger.Economics;

/// <summary>
/// One registered contribution's cut of a settled fee: <paramref name="Bps"/> basis points of the fee to
/// <c>royalty:&lt;Payout&gt;</c>. <paramref name="Contribution"/> is the contribution's file SHA-256 (for messages).
/// </summary>
public sealed record RoyaltyShare(Address Payout, int Bps, Hash256 Contribution);
