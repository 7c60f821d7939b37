using System.Diagnostics.CodeAnalysis;
using Cairn.Protocol.Identity;

namespace Cairn.Ledger.Accounts;

/// <summary>
/// Account names. An account is a string: <c>kind</c> or <c>kind:suffix</c>, where the suffix is an EIP-55 address
/// (<c>client</c>, <c>provider-stake</c>, <c>provider-unbonding</c>, <c>provider-earnings</c>, <c>royalty</c>) or a
/// hold id (<c>hold</c>); <c>validator-pool</c>, <c>treasury</c>, <c>burn</c> and <c>external</c> have none. Exactly one
/// text form per account, so names compare and hash as strings.
/// </summary>
public static class Account
{
    public const int MaxLength = 128;
    public const string ValidatorPool = "validator-pool";
    public const string Treasury = "treasury";
    public const string Burn = "burn";
    public const string External = "external";

    public static string Client(Address a) => "client:" + a;
    public static string Hold(string holdId) => "hold:" + holdId;
    public static string ProviderStake(Address a) => "provider-stake:" + a;
    public static string ProviderUnbonding(Address a) => "provider-unbonding:" + a;
    public static string ProviderEarnings(Address a) => "provider-earnings:" + a;
    public static string Royalty(Address a) => "royalty:" + a;

    /// <summary>Parses an account name; addresses may be given in any case and come back in their EIP-55 form.</summary>
    public static bool TryParse(string? text, out AccountKind kind, [NotNullWhen(true)] out string? canonical, [NotNullWhen(false)] out string? error)
    {
        kind = default;
        canonical = null;
        if (string.IsNullOrEmpty(text) || text.Length > MaxLength)
        {
            error = $"an account name is 1 to {MaxLength} characters; got \"{text}\"";
            return false;
        }
        int colon = text.IndexOf(':');
        string prefix = colon < 0 ? text : text[..colon];
        string? suffix = colon < 0 ? null : text[(colon + 1)..];
        switch (prefix)
        {
            case ValidatorPool: kind = AccountKind.ValidatorPool; break;
            case Treasury: kind = AccountKind.Treasury; break;
            case Burn: kind = AccountKind.Burn; break;
            case External: kind = AccountKind.External; break;
            case "hold":
                kind = AccountKind.Hold;
                if (!LedgerIds.TryValidate(suffix, "hold id", out error)) return false;
                canonical = text;
                return true;
            case "client": kind = AccountKind.Client; break;
            case "provider-stake": kind = AccountKind.ProviderStake; break;
            case "provider-unbonding": kind = AccountKind.ProviderUnbonding; break;
            case "provider-earnings": kind = AccountKind.ProviderEarnings; break;
            case "royalty": kind = AccountKind.Royalty; break;
            default:
                error = $"unknown account kind \"{prefix}\" in \"{text}\" (client:, hold:, provider-stake:, provider-unbonding:, provider-earnings:, royalty:, validator-pool, treasury, burn, external)";
                return false;
        }
        bool needsAddress = kind is AccountKind.Client or AccountKind.ProviderStake or AccountKind.ProviderUnbonding or AccountKind.ProviderEarnings or AccountKind.Royalty;
        if (!needsAddress)
        {
            if (suffix is not null) { error = $"account \"{prefix}\" takes no suffix; got \"{text}\""; return false; }
            canonical = prefix;
            error = null;
            return true;
        }
        if (!Address.TryParse(suffix, out var address, out string? addressError))
        {
            error = $"account \"{text}\": {addressError}";
            return false;
        }
        canonical = prefix + ":" + address;
        error = null;
        return true;
    }

    public static AccountKind KindOf(string canonical) =>
        TryParse(canonical, out var kind, out _, out string? error) ? kind : throw new ArgumentException(error, nameof(canonical));
}
