using System.Security.Cryptography;
using Cairn.Engine.Sampling;
using Cairn.Protocol.Crypto;

namespace Cairn.Node.Provider;

public sealed partial record ProviderFaults
{
    /// <summary>XORed into a forged layer hash (forge-layer-hashes).</summary>
    internal const byte ForgeMask = 0xA5;

    /// <summary>
    /// FAULT INJECTION (tests only): whether this request gets the token-level cheats. Without collusion: always. With
    /// <c>collude:DIR</c>: as an asserter always, and the request's hash is written into DIR for the partner; as a
    /// validator only when the hash is in DIR (the partner answered it).
    /// </summary>
    internal bool CheatsOn(Hash256 requestHash, bool validation)
    {
        if (!CheatsPerRequest) return false;
        if (CollusionDirectory is not { } dir) return true;
        string mark = Path.Combine(dir, requestHash.ToString());
        if (validation) return File.Exists(mark);
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(mark, []);
        return true;
    }

    /// <summary>The rows a stage hands on: <paramref name="rows"/>, or with forward-other-rows a copy whose rows each have their first float plus one.</summary>
    internal float[] Forwarded(float[] rows, int dim)
    {
        if (!ForwardOtherRows) return rows;
        var other = (float[])rows.Clone();
        for (int i = 0; i < other.Length; i += dim) other[i] += 1f;
        return other;
    }

    /// <summary>The seed a cheater samples with (wrong-seed), or the request's.</summary>
    internal ulong Seed(ulong requested, bool cheat) => cheat && WrongSeed ? requested ^ 0x5EED_FA17_5EED_FA17UL : requested;

    /// <summary>random-tokens: the i-th generated token, from xoshiro256** seeded by the request hash, instead of sampling.</summary>
    internal Func<int, int>? TokenOverride(Hash256 requestHash, int vocabSize, bool cheat)
    {
        if (!cheat || !RandomTokens) return null;
        ulong seed = BitConverter.ToUInt64(requestHash.ToArray(), 0);
        var rng = new Xoshiro256StarStar(seed);
        var drawn = new List<int>();
        return i =>
        {
            while (drawn.Count <= i) drawn.Add((int)(rng.Next() % (ulong)vocabSize));
            return drawn[i];
        };
    }

    /// <summary>truncate:N — true once a cheater has generated N tokens (the sequence then ends with finish "stop").</summary>
    internal bool Truncates(int generated, bool cheat) => cheat && TruncateAfter is { } n && generated >= n;

    /// <summary>forge-commitment: the commitment a cheater signs instead of the real one (a hash of the request, so a partner forges the same).</summary>
    internal static Hash256 ForgedCommitment(Hash256 requestHash) =>
        new(SHA256.HashData([.. "cairn.fault.forged-commitment"u8, .. requestHash.ToArray()]));

    /// <summary>lazy-validator: a guess at a commitment, made without computing anything.</summary>
    internal static Hash256 GuessedCommitment(Hash256 requestHash) =>
        new(SHA256.HashData([.. "cairn.fault.lazy-guess"u8, .. requestHash.ToArray()]));

    /// <summary>forge-layer-hashes: the trace hook that XORs layer <paramref name="layer"/>'s hash at every step with <see cref="ForgeMask"/>.</summary>
    internal static Action<int, int, byte[]> LayerHashForgery(int layer) => (_, l, hash) =>
    {
        if (l != layer) return;
        for (int i = 0; i < hash.Length; i++) hash[i] ^= ForgeMask;
    };
}
