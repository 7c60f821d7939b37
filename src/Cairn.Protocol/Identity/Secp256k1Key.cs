using System.Security.Cryptography;
using Cairn.Protocol.Crypto;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;
using Org.BouncyCastle.Utilities;
using ECPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace Cairn.Protocol.Identity;

/// <summary>
/// A secp256k1 private key (32 bytes, big-endian, 1 ≤ d &lt; n) and what it does: derive the public key and address,
/// sign a 32-byte hash with RFC 6979 deterministic ECDSA (HMAC-SHA-256), low-s normalized, as a 65-byte
/// recoverable <see cref="Signature"/>. Verification and recovery are static: they need only the signature.
/// The private key never appears in <see cref="ToString"/>; <see cref="Dispose"/> zeroes it.
/// </summary>
public sealed class Secp256k1Key : IDisposable
{
    public const int PrivateKeySize = 32;

    private static readonly X9ECParameters Curve = CustomNamedCurves.GetByName("secp256k1");
    private static readonly ECDomainParameters Domain = new(Curve.Curve, Curve.G, Curve.N, Curve.H);
    private static readonly BigInteger HalfN = Curve.N.ShiftRight(1);

    private readonly byte[] _privateKey;
    private readonly BigInteger _d;

    private Secp256k1Key(byte[] privateKey, BigInteger d)
    {
        _privateKey = privateKey;
        _d = d;
        var q = Domain.G.Multiply(d).Normalize();
        PublicKey = q.GetEncoded(false);
        Address = Address.FromPublicKey(PublicKey);
    }

    /// <summary>The uncompressed public key, 65 bytes: 0x04 ‖ x ‖ y.</summary>
    public byte[] PublicKey { get; }

    public Address Address { get; }

    /// <summary>Wraps 32 private-key bytes (big-endian); rejects 0 and values ≥ the curve order.</summary>
    public static Secp256k1Key FromPrivateKey(ReadOnlySpan<byte> privateKey)
    {
        if (privateKey.Length != PrivateKeySize) throw new ArgumentException($"a secp256k1 private key is {PrivateKeySize} bytes, got {privateKey.Length}", nameof(privateKey));
        var d = new BigInteger(1, privateKey);
        if (!IsValidScalar(d)) throw new ArgumentException("the private key is not in the range 1 to n-1 of secp256k1", nameof(privateKey));
        return new Secp256k1Key(privateKey.ToArray(), d);
    }

    /// <summary>Draws a fresh key from the generator it is handed (rejection sampling until 1 ≤ d &lt; n).</summary>
    public static Secp256k1Key Generate(RandomNumberGenerator random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var bytes = new byte[PrivateKeySize];
        while (true)
        {
            random.GetBytes(bytes);
            var d = new BigInteger(1, bytes);
            if (IsValidScalar(d)) return new Secp256k1Key(bytes, d);
        }
    }

    /// <summary>A copy of the 32 private-key bytes. Handle with care: never log it.</summary>
    public byte[] ExportPrivateKey() => (byte[])_privateKey.Clone();

    /// <summary>Signs a 32-byte hash: RFC 6979 nonce, s ≤ n/2, v = 27 + recovery id.</summary>
    public Signature Sign(Hash256 hash)
    {
        Span<byte> h = stackalloc byte[Hash256.Size];
        hash.CopyTo(h);
        var signer = new ECDsaSigner(new HMacDsaKCalculator(new Sha256Digest()));
        signer.Init(true, new ECPrivateKeyParameters(_d, Domain));
        var rs = signer.GenerateSignature(h.ToArray());
        BigInteger r = rs[0], s = rs[1];
        if (s.CompareTo(HalfN) > 0) s = Curve.N.Subtract(s);
        Span<byte> sig = stackalloc byte[Signature.Size];
        BigIntegers.AsUnsignedByteArray(r, sig[..32]);
        BigIntegers.AsUnsignedByteArray(s, sig[32..64]);
        var q = Curve.Curve.DecodePoint(PublicKey);
        for (int recId = 0; recId < 4; recId++)
        {
            var candidate = RecoverPoint(h, r, s, recId);
            if (candidate != null && candidate.Equals(q))
            {
                if (recId > 1) break; // r ≥ n wrapped: probability ~2^-127; Ethereum cannot express it either
                sig[64] = (byte)(27 + recId);
                return new Signature(sig);
            }
        }
        throw new CryptographicException("no recovery id reproduces the public key; this is a bug");
    }

    /// <summary>The address that signed <paramref name="hash"/>, or null when the signature is malformed or high-s.</summary>
    public static Address? RecoverAddress(Hash256 hash, Signature signature)
    {
        byte[]? publicKey = RecoverPublicKey(hash, signature);
        return publicKey == null ? null : Address.FromPublicKey(publicKey);
    }

    /// <summary>The 65-byte uncompressed public key that signed <paramref name="hash"/>, or null when none can be recovered.</summary>
    public static byte[]? RecoverPublicKey(Hash256 hash, Signature signature)
    {
        Span<byte> sig = stackalloc byte[Signature.Size];
        signature.CopyTo(sig);
        int v = sig[64];
        if (v != 27 && v != 28) return null;
        var r = new BigInteger(1, sig[..32]);
        var s = new BigInteger(1, sig[32..64]);
        if (!IsValidScalar(r) || !IsValidScalar(s) || s.CompareTo(HalfN) > 0) return null;
        Span<byte> h = stackalloc byte[Hash256.Size];
        hash.CopyTo(h);
        return RecoverPoint(h, r, s, v - 27)?.GetEncoded(false);
    }

    /// <summary>True when <paramref name="signature"/> over <paramref name="hash"/> was made by the key of <paramref name="expected"/>.</summary>
    public static bool Verify(Hash256 hash, Signature signature, Address expected) => RecoverAddress(hash, signature) is { } a && a == expected;

    public void Dispose() => CryptographicOperations.ZeroMemory(_privateKey);

    public override string ToString() => $"secp256k1 key {Address}";

    private static bool IsValidScalar(BigInteger x) => x.SignValue > 0 && x.CompareTo(Curve.N) < 0;

    // SEC 1 v2 §4.1.6: Q = r⁻¹ (sR − eG), with R the curve point whose x is r + (recId / 2)·n and whose y parity is recId & 1.
    private static ECPoint? RecoverPoint(ReadOnlySpan<byte> hash, BigInteger r, BigInteger s, int recId)
    {
        var n = Curve.N;
        var x = r.Add(BigInteger.ValueOf(recId / 2).Multiply(n));
        var p = Curve.Curve.Field.Characteristic;
        if (x.CompareTo(p) >= 0) return null;
        Span<byte> compressed = stackalloc byte[33];
        compressed[0] = (byte)(0x02 + (recId & 1));
        BigIntegers.AsUnsignedByteArray(x, compressed[1..]);
        ECPoint rPoint;
        try
        {
            rPoint = Curve.Curve.DecodePoint(compressed.ToArray());
        }
        catch (ArgumentException)
        {
            return null; // x is not on the curve
        }
        var e = new BigInteger(1, hash);
        var eNeg = BigInteger.Zero.Subtract(e).Mod(n);
        var rInv = r.ModInverse(n);
        var q = ECAlgorithms.SumOfTwoMultiplies(Domain.G, rInv.Multiply(eNeg).Mod(n), rPoint, rInv.Multiply(s).Mod(n)).Normalize();
        return q.IsInfinity ? null : q;
    }
}
