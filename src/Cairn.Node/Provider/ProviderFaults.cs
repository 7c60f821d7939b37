using System.Globalization;
using Cairn.Engine.Kernels;
using Cairn.Engine.Tensors;

namespace Cairn.Node.Provider;

/// <summary>
/// FAULT INJECTION, FOR TESTS ONLY (the hidden <c>cairn node --fault</c> option): makes an otherwise real provider
/// misbehave in one chosen way so that tests can show what the gateway does about it. Comma-separated:
/// <list type="bullet">
/// <item><c>bad-signature</c>: receipts (and a pipeline stage's parts of a trace) are signed with a fresh random key
/// instead of the provider's own.</item>
/// <item><c>stall-after-tokens:N</c>: after N tokens in all (across all requests), generation stops for good and the
/// line <c>fault: stalled after N tokens</c> goes to standard output — a test then kills the process mid-stream.</item>
/// <item><c>claim-speed:X</c>: announce X tokens/s of decode speed instead of the measured one (to attract routing).</item>
/// </list>
/// Cheaters for Proof of Sampling (docs/verification.md, "Cheating strategies"). Each cheat lives where the provider's
/// replay of a generation for a dispute (its <see cref="ServedModel.Transformer"/> fed the streamed tokens) sees it
/// too, so the provider's trace stays consistent with its receipt:
/// <list type="bullet">
/// <item><c>wrong-seed</c>: samples with another seed than the request's: other tokens, honest trace over them (also
/// as the last stage of a pipeline).</item>
/// <item><c>forge-commitment</c>: honest tokens, but the receipt's output commitment is forged (a hash of the request).</item>
/// <item><c>substitute-model:FILE</c>: computes with another model file (same vocabulary, e.g. a smaller model) while
/// announcing, signing and routing under the served file's name and hash.</item>
/// <item><c>cheaper-type:TYPE</c>: requantizes the served weights in memory at load to TYPE (Q4_0, Q8_0 or F16).</item>
/// <item><c>skip-layers:L[,L…]</c>: those layers are not computed (output = input) from the first token on.</item>
/// <item><c>random-tokens</c>: after the prompt, emits tokens from an RNG seeded by the request hash instead of
/// sampling; they are fed to the model, so the trace is the honest trace over those tokens.</item>
/// <item><c>truncate:N</c>: stops after N generated tokens and reports finish "stop".</item>
/// <item><c>ignore-adapter</c>: accepts requests naming its adapters but computes (and replays) with the base model only.</item>
/// <item><c>forge-layer-hashes[:L]</c>: honest tokens, but layer L's hash (default: the middle layer) is XORed with a
/// constant at every step; trace root and output commitment follow from the forged trace.</item>
/// <item><c>lazy-validator</c>: asked to validate (<c>GenerateRequest.validation</c>), it computes nothing and returns
/// a receipt with a guessed commitment at once; as an asserter it is honest.</item>
/// <item><c>forward-other-rows</c> (a pipeline stage): computes and hashes its layers honestly but hands the next stage
/// other rows (the first float of each row plus one).</item>
/// <item><c>forge-stage-part</c> (a pipeline stage): signs a part of the trace whose root is not the root of the hashes it
/// reported.</item>
/// <item><c>collude:DIR</c>, with one of the token-level cheats (wrong-seed, forge-commitment, random-tokens,
/// truncate): as an asserter it cheats and writes each request's hash into DIR; as a validator it cheats the same way
/// only for a request whose hash is in DIR (its partner's), and validates honestly otherwise.</item>
/// </list>
/// </summary>
public sealed partial record ProviderFaults
{
    public static readonly ProviderFaults None = new();

    public bool BadSignature { get; init; }
    public int? StallAfterTokens { get; init; }
    public double? ClaimDecodeTokS { get; init; }
    public bool WrongSeed { get; init; }
    public bool ForgeCommitment { get; init; }
    /// <summary>The model file computed with instead of the served one (<c>substitute-model:FILE</c>).</summary>
    public string? SubstituteModel { get; init; }
    /// <summary>The type the served weights are requantized to (<c>cheaper-type:TYPE</c>).</summary>
    public GgmlType? CheaperType { get; init; }
    /// <summary>Layers not computed (<c>skip-layers:L,…</c>), in ascending order; empty: none.</summary>
    public IReadOnlyList<int> SkipLayers { get; init; } = [];
    public bool RandomTokens { get; init; }
    /// <summary>Generated tokens after which a cheater stops (<c>truncate:N</c>).</summary>
    public int? TruncateAfter { get; init; }
    /// <summary>Forge layer hashes (<c>forge-layer-hashes[:L]</c>); <see cref="ForgedLayer"/> null means the middle layer.</summary>
    public bool ForgeLayerHashes { get; init; }
    public int? ForgedLayer { get; init; }
    public bool LazyValidator { get; init; }
    /// <summary>Compute without the requested adapters (<c>ignore-adapter</c>), in generations and in replays.</summary>
    public bool IgnoreAdapter { get; init; }
    /// <summary>A stage forwards rows other than the ones it hashed (<c>forward-other-rows</c>).</summary>
    public bool ForwardOtherRows { get; init; }
    /// <summary>A stage signs a part with a forged root (<c>forge-stage-part</c>).</summary>
    public bool ForgeStagePart { get; init; }

    /// <summary>The cartel's folder of answered request hashes (<c>collude:DIR</c>).</summary>
    public string? CollusionDirectory { get; init; }

    /// <summary>True when a token-level cheat (one that can be switched per request) is on.</summary>
    public bool CheatsPerRequest => WrongSeed || ForgeCommitment || RandomTokens || TruncateAfter is not null;

    private int _tokens;

    private const string Known = "bad-signature, stall-after-tokens:N (N ≥ 1), claim-speed:X (X > 0), wrong-seed, forge-commitment, " +
        "substitute-model:FILE, cheaper-type:Q4_0|Q8_0|F16, skip-layers:L[,L…] (L ≥ 0), random-tokens, truncate:N (N ≥ 1), " +
        "forge-layer-hashes[:L], lazy-validator, collude:DIR, ignore-adapter, forward-other-rows, forge-stage-part";

    /// <summary>Parses the <c>--fault</c> value; an unknown or malformed fault is an <see cref="ArgumentException"/>.</summary>
    public static ProviderFaults Parse(string? spec)
    {
        var faults = None;
        if (string.IsNullOrWhiteSpace(spec)) return faults;
        bool inSkipList = false;
        foreach (string part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // skip-layers:1,3 — a bare number after skip-layers continues its list.
            if (inSkipList && Layer(part) is int more)
            {
                faults = faults with { SkipLayers = [.. faults.SkipLayers, more] };
                continue;
            }
            string[] kv = part.Split(':', 2);
            inSkipList = kv[0] == "skip-layers";
            faults = (kv[0], kv.Length > 1 ? kv[1] : null) switch
            {
                ("bad-signature", null) => faults with { BadSignature = true },
                ("wrong-seed", null) => faults with { WrongSeed = true },
                ("forge-commitment", null) => faults with { ForgeCommitment = true },
                ("random-tokens", null) => faults with { RandomTokens = true },
                ("lazy-validator", null) => faults with { LazyValidator = true },
                ("ignore-adapter", null) => faults with { IgnoreAdapter = true },
                ("forward-other-rows", null) => faults with { ForwardOtherRows = true },
                ("forge-stage-part", null) => faults with { ForgeStagePart = true },
                ("forge-layer-hashes", null) => faults with { ForgeLayerHashes = true },
                ("forge-layer-hashes", { } l) when Layer(l) is int v => faults with { ForgeLayerHashes = true, ForgedLayer = v },
                ("skip-layers", { } l) when Layer(l) is int v => faults with { SkipLayers = [.. faults.SkipLayers, v] },
                ("truncate", { } n) when Count(n) is int v => faults with { TruncateAfter = v },
                ("substitute-model", { Length: > 0 } file) => faults with { SubstituteModel = file },
                ("cheaper-type", { Length: > 0 } t) when !char.IsAsciiDigit(t[0]) && Enum.TryParse<GgmlType>(t, ignoreCase: true, out var type)
                    && type != GgmlType.F32 && WeightQuantizer.CanWrite(type) => faults with { CheaperType = type },
                ("collude", { Length: > 0 } dir) => faults with { CollusionDirectory = dir },
                ("stall-after-tokens", { } n) when Count(n) is int v => faults with { StallAfterTokens = v },
                ("claim-speed", { } x) when double.TryParse(x, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 && double.IsFinite(v) =>
                    faults with { ClaimDecodeTokS = v },
                _ => throw new ArgumentException($"--fault '{part}' is not one of {Known}"),
            };
        }
        if (faults.SkipLayers.Count != faults.SkipLayers.Distinct().Count())
            throw new ArgumentException($"--fault skip-layers names a layer twice: {string.Join(',', faults.SkipLayers)}");
        if (faults.CollusionDirectory is not null && !faults.CheatsPerRequest)
            throw new ArgumentException("--fault collude:DIR needs a token-level cheat to apply for the cartel: wrong-seed, forge-commitment, random-tokens or truncate:N");
        return faults with { SkipLayers = faults.SkipLayers.Order().ToArray() };
    }

    private static int? Layer(string s) => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v <= 4096 ? v : null;

    private static int? Count(string s) => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v >= 1 ? v : null;

    /// <summary>Called on the batcher thread after each token; blocks that thread forever once the stall point is reached.</summary>
    internal void AfterToken()
    {
        if (StallAfterTokens is not { } n || Interlocked.Increment(ref _tokens) != n) return;
        Console.Out.WriteLine($"fault: stalled after {n} tokens");
        Console.Out.Flush();
        Thread.Sleep(Timeout.Infinite);
    }
}
