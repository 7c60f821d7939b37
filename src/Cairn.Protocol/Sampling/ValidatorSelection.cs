using System.Numerics;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Encoding;
using Cairn.Protocol.Identity;

namespace Cairn.Protocol.Sampling;

/// <summary>A provider that could validate: its address, the operator that runs it, and its stake (smallest units).</summary>
public readonly record struct ValidatorCandidate(Address Provider, Address Operator, ulong Stake);

/// <summary>
/// Stake-weighted choice of <c>n</c> validators for a challenged receipt (DESIGN.md §4.2), deterministic from the
/// epoch secret and the receipt hash so that it can be audited after the reveal.
/// <list type="number">
/// <item>Eligible: stake &gt; 0, not the asserter, not run by the asserter's operator. Duplicates of an address are an error.</item>
/// <item>Order: eligible candidates sorted by address bytes (so the caller's list order never matters).</item>
/// <item>Draw <c>i</c> (0-based), attempt <c>a</c>: <c>x = Keccak256(u8 21 ‖ "cairn.posp.validators" ‖ u8 1 ‖ secret ‖ receiptHash ‖ u32 i ‖ u32 a)</c> (u32 little-endian)
/// as a big-endian integer; with <c>T</c> the total stake still in the pool, if <c>x ≥ ⌊2^256 / T⌋ · T</c> the attempt is
/// rejected and <c>a</c> grows (exactly uniform, no modulo bias); otherwise <c>y = x mod T</c> and the chosen candidate is the
/// first in order whose cumulative stake exceeds <c>y</c>. It leaves the pool (without replacement).</item>
/// </list>
/// If fewer than <c>n</c> candidates are eligible, all of them are returned (in draw order).
/// </summary>
public static class ValidatorSelection
{
    public const string DomainTag = "cairn.posp.validators";

    public static IReadOnlyList<ValidatorCandidate> Select(ReadOnlySpan<byte> secret, Hash256 receiptHash, IEnumerable<ValidatorCandidate> candidates,
        Address asserter, Address asserterOperator, int n)
    {
        if (secret.Length != Hash256.Size) throw new ArgumentException($"an epoch secret is {Hash256.Size} bytes, got {secret.Length}", nameof(secret));
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        var pool = new List<ValidatorCandidate>();
        var seen = new HashSet<Address>();
        foreach (var c in candidates)
        {
            if (!seen.Add(c.Provider)) throw new ArgumentException($"candidate {c.Provider} appears twice", nameof(candidates));
            if (c.Stake == 0 || c.Provider == asserter || c.Operator == asserterOperator) continue;
            pool.Add(c);
        }
        pool.Sort((a, b) => a.Provider.ToArray().AsSpan().SequenceCompareTo(b.Provider.ToArray()));

        var chosen = new List<ValidatorCandidate>(Math.Min(n, pool.Count));
        var total = BigInteger.Zero;
        foreach (var c in pool) total += c.Stake;
        var seedPrefix = new CanonicalWriter(128);
        seedPrefix.WriteDomain(DomainTag, 1);
        seedPrefix.WriteFixed(secret);
        seedPrefix.WriteHash(receiptHash);
        var prefix = seedPrefix.ToArray();
        var buffer = new byte[prefix.Length + 8];
        prefix.CopyTo(buffer, 0);
        var space = BigInteger.One << 256;

        for (int i = 0; i < n && pool.Count > 0; i++)
        {
            var limit = space / total * total;
            BigInteger x;
            uint attempt = 0;
            do
            {
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(prefix.Length), (uint)i);
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(prefix.Length + 4), attempt++);
                x = ChallengeDraw.ToUInt256(Keccak256.Hash(buffer));
            }
            while (x >= limit);
            var y = x % total;
            var cumulative = BigInteger.Zero;
            int k = 0;
            for (; k < pool.Count; k++)
            {
                cumulative += pool[k].Stake;
                if (cumulative > y) break;
            }
            chosen.Add(pool[k]);
            total -= pool[k].Stake;
            pool.RemoveAt(k);
        }
        return chosen;
    }
}

/// <summary>
/// A validator's sealed answer (DESIGN.md §4.2): before it sees the asserter's output commitment it publishes
/// <c>Keccak256(validator ‖ outputCommitment ‖ salt)</c> (20 + 32 + 32 bytes); it then reveals the commitment and the salt.
/// Binding the validator's address stops another validator from replaying the same seal as its own.
/// </summary>
public static class ValidatorCommitment
{
    public static Hash256 Seal(Address validator, Hash256 outputCommitment, ReadOnlySpan<byte> salt)
    {
        if (salt.Length != Hash256.Size) throw new ArgumentException($"a salt is {Hash256.Size} bytes, got {salt.Length}", nameof(salt));
        Span<byte> buffer = stackalloc byte[Address.Size + 2 * Hash256.Size];
        validator.CopyTo(buffer);
        outputCommitment.CopyTo(buffer[Address.Size..]);
        salt.CopyTo(buffer[(Address.Size + Hash256.Size)..]);
        return Keccak256.Hash(buffer);
    }

    public static bool VerifyReveal(Hash256 seal, Address validator, Hash256 outputCommitment, ReadOnlySpan<byte> salt) =>
        salt.Length == Hash256.Size && Seal(validator, outputCommitment, salt) == seal;
}
