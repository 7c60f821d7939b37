using System.Numerics;
using System.Security.Cryptography;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Tests.TestSupport;

namespace Cairn.Protocol.Tests.Identity;

public class Secp256k1KeyTests
{
    private static Secp256k1Key Key(string hex) => Secp256k1Key.FromPrivateKey(Convert.FromHexString(hex));

    [Theory]
    [InlineData("4646464646464646464646464646464646464646464646464646464646464646", "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F")] // EIP-155
    [InlineData("0000000000000000000000000000000000000000000000000000000000000001", "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf")]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000002", "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF")]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000003", "0x6813Eb9362372EEF6200f3b1dbC3f819671cBA69")]
    public void Private_keys_give_the_known_Ethereum_addresses(string privateKey, string address) =>
        Assert.Equal(address, Key(privateKey).Address.ToString());

    [Fact]
    public void The_public_key_of_1_is_the_generator()
    {
        Assert.Equal(
            "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8",
            Convert.ToHexStringLower(Key("0000000000000000000000000000000000000000000000000000000000000001").PublicKey));
    }

    [Fact]
    public void Signing_the_EIP_155_example_gives_its_r_s_and_recovery_id()
    {
        // EIP-155's example transaction: signing hash, and the (r, s, v = 37 = 35 + 2·1 + recovery id 0) it lists.
        var hash = Hash256.Parse("daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53");
        var sig = Key("4646464646464646464646464646464646464646464646464646464646464646").Sign(hash).ToArray();
        Assert.Equal(BigInteger.Parse("18515461264373351373200002665853028612451056578545711640558177340181847433846"), new BigInteger(sig.AsSpan(0, 32), isUnsigned: true, isBigEndian: true));
        Assert.Equal(BigInteger.Parse("46948507304638947509940763649030358759909902576025900602547168820602576006531"), new BigInteger(sig.AsSpan(32, 32), isUnsigned: true, isBigEndian: true));
        Assert.Equal(27, sig[64]);
    }

    [Fact]
    public void Signatures_are_deterministic_low_s_and_recover_the_signer()
    {
        var n = BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", System.Globalization.NumberStyles.HexNumber);
        using var rng = new DeterministicRandom(7);
        for (int i = 0; i < 64; i++)
        {
            using var key = Secp256k1Key.Generate(rng);
            var hash = Keccak256.Hash(BitConverter.GetBytes(i));
            var sig = key.Sign(hash);
            Assert.Equal(sig, key.Sign(hash));
            var bytes = sig.ToArray();
            Assert.True(new BigInteger(bytes.AsSpan(32, 32), isUnsigned: true, isBigEndian: true) <= n / 2);
            Assert.InRange(bytes[64], (byte)27, (byte)28);
            Assert.Equal(key.Address, Secp256k1Key.RecoverAddress(hash, sig));
            Assert.Equal(key.PublicKey, Secp256k1Key.RecoverPublicKey(hash, sig));
            Assert.True(Secp256k1Key.Verify(hash, sig, key.Address));
            Assert.False(Secp256k1Key.Verify(Keccak256.Hash(BitConverter.GetBytes(i + 1000)), sig, key.Address));
        }
    }

    [Fact]
    public void High_s_and_bad_v_signatures_are_refused()
    {
        var n = BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", System.Globalization.NumberStyles.HexNumber);
        using var key = Key("4646464646464646464646464646464646464646464646464646464646464646");
        var hash = Keccak256.Hash("cairn"u8);
        var bytes = key.Sign(hash).ToArray();
        var s = new BigInteger(bytes.AsSpan(32, 32), isUnsigned: true, isBigEndian: true);
        var highS = (n - s).ToByteArray(isUnsigned: true, isBigEndian: true);
        var malleable = (byte[])bytes.Clone();
        Array.Clear(malleable, 32, 32);
        highS.CopyTo(malleable, 64 - highS.Length);
        malleable[64] = (byte)(bytes[64] ^ 1); // the mathematically valid twin: (r, n − s, other parity)
        Assert.Null(Secp256k1Key.RecoverAddress(hash, new Signature(malleable)));
        foreach (byte v in new byte[] { 0, 1, 26, 29, 37 })
        {
            var badV = (byte[])bytes.Clone();
            badV[64] = v;
            Assert.Null(Secp256k1Key.RecoverAddress(hash, new Signature(badV)));
        }
        Assert.Null(Secp256k1Key.RecoverAddress(hash, Signature.Empty));
    }

    [Theory]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")]
    [InlineData("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")]
    public void Out_of_range_private_keys_are_rejected(string hex) =>
        Assert.Throws<ArgumentException>(() => Key(hex));

    [Fact]
    public void ToString_never_shows_the_private_key()
    {
        using var key = Key("4646464646464646464646464646464646464646464646464646464646464646");
        Assert.DoesNotContain("4646464646", key.ToString());
        Assert.Contains(key.Address.ToString(), key.ToString());
    }
}
