namespace Cairn.Ledger.Economics;

/// <summary>
/// How a request's fee is divided, in basis points (1/10,000) that must sum to 10,000. Rounding rule: each share is
/// ⌊fee × bps / 10,000⌋ (computed in 128-bit, so no fee overflows); the adapter share is divided equally among the
/// adapter authors, each getting ⌊share / n⌋; a share with nobody to receive it (no model owner, no adapters) and every
/// remainder go to the treasury. So the shares are integers that always sum to exactly the fee.
/// </summary>
public sealed record FeeSplit(int ProviderBps, int ModelOwnerBps, int AdapterAuthorsBps, int ValidatorPoolBps, int TreasuryBps)
{
    public const int Total = 10_000;

    /// <summary>The default: provider 80%, base-model owner 5%, adapter authors 5%, validator pool 5%, treasury 5%.</summary>
    public static FeeSplit Default { get; } = new(8_000, 500, 500, 500, 500);

    public bool IsValid([System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        int[] parts = [ProviderBps, ModelOwnerBps, AdapterAuthorsBps, ValidatorPoolBps, TreasuryBps];
        if (parts.Any(p => p < 0 || p > Total)) { error = $"each basis-point share is 0 to {Total}; got {this}"; return false; }
        if (parts.Sum() != Total) { error = $"basis-point shares must sum to {Total}; {this} sums to {parts.Sum()}"; return false; }
        error = null;
        return true;
    }

    internal static long Share(long fee, int bps) => (long)((Int128)fee * bps / Total);
}
