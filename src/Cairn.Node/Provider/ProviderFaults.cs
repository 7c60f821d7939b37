using System.Globalization;

namespace Cairn.Node.Provider;

/// <summary>
/// FAULT INJECTION, FOR TESTS ONLY (the hidden <c>cairn node --fault</c> option): makes an otherwise real provider
/// misbehave in one chosen way so that tests can show what the gateway does about it. Comma-separated:
/// <list type="bullet">
/// <item><c>bad-signature</c>: receipts are signed with a fresh random key instead of the provider's own.</item>
/// <item><c>stall-after-tokens:N</c>: after N tokens in all (across all requests), generation stops for good and the
/// line <c>fault: stalled after N tokens</c> goes to standard output — a test then kills the process mid-stream.</item>
/// <item><c>claim-speed:X</c>: announce X tokens/s of decode speed instead of the measured one (to attract routing).</item>
/// <item><c>wrong-seed</c>: a cheater that samples with another seed than the request's: other tokens, so another output
/// commitment than an honest re-execution (a challenge catches it).</item>
/// <item><c>forge-commitment</c>: a cheater that returns the honest tokens but a random output commitment in its (correctly
/// signed) receipt.</item>
/// </list>
/// </summary>
public sealed record ProviderFaults
{
    public static readonly ProviderFaults None = new();

    public bool BadSignature { get; init; }
    public int? StallAfterTokens { get; init; }
    public double? ClaimDecodeTokS { get; init; }
    public bool WrongSeed { get; init; }
    public bool ForgeCommitment { get; init; }

    private int _tokens;

    /// <summary>Parses the <c>--fault</c> value; an unknown or malformed fault is an <see cref="ArgumentException"/>.</summary>
    public static ProviderFaults Parse(string? spec)
    {
        var faults = None;
        if (string.IsNullOrWhiteSpace(spec)) return faults;
        foreach (string part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] kv = part.Split(':', 2);
            faults = (kv[0], kv.Length > 1 ? kv[1] : null) switch
            {
                ("bad-signature", null) => faults with { BadSignature = true },
                ("wrong-seed", null) => faults with { WrongSeed = true },
                ("forge-commitment", null) => faults with { ForgeCommitment = true },
                ("stall-after-tokens", { } n) when int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v >= 1 =>
                    faults with { StallAfterTokens = v },
                ("claim-speed", { } x) when double.TryParse(x, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 && double.IsFinite(v) =>
                    faults with { ClaimDecodeTokS = v },
                _ => throw new ArgumentException($"--fault '{part}' is not one of bad-signature, stall-after-tokens:N (N ≥ 1), claim-speed:X (X > 0), wrong-seed, forge-commitment"),
            };
        }
        return faults;
    }

    /// <summary>Called on the batcher thread after each token; blocks that thread forever once the stall point is reached.</summary>
    internal void AfterToken()
    {
        if (StallAfterTokens is not { } n || Interlocked.Increment(ref _tokens) != n) return;
        Console.Out.WriteLine($"fault: stalled after {n} tokens");
        Console.Out.Flush();
        Thread.Sleep(Timeout.Infinite);
    }
}
