using Cairn.Ledger.Journal;
using Cairn.Protocol.Crypto;

namespace Cairn.Ledger.Tests.Journal;

/// <summary>Golden values: the entry's canonical encoding and hashes must never change silently (that is a version bump).</summary>
public class LedgerEntryEncodingTests
{
    private static LedgerEntry Sample() => new LedgerEntry
    {
        Id = "settle/req-1",
        Kind = EntryKind.Settle,
        Authorization = Keccak256.Hash("receipt"u8),
        Subject = "0xCA00000000000000000000000000000000000002",
        Reference = "req-1",
        Postings = [new("hold:req-1", -1_000), new("provider-earnings:0xCA00000000000000000000000000000000000002", 800), new("treasury", 200)],
    }.Seal(sequence: 7, epoch: 2, previous: Keccak256.Hash("previous"u8));

    [Fact]
    public void The_content_encoding_is_frozen()
    {
        Assert.Equal(GoldenContent, Convert.ToHexStringLower(Sample().EncodeContent()));
    }

    [Fact]
    public void The_chained_hash_is_frozen_and_covers_placement()
    {
        var e = Sample();
        Assert.Equal(GoldenHash, e.Hash.ToString());
        Assert.Equal(e.Hash, e.ComputeHash());
        Assert.NotEqual(e.Hash, LedgerEntry.Link(8, 2, 0, e.Previous, e.ContentHash()));
        Assert.NotEqual(e.Hash, LedgerEntry.Link(7, 3, 0, e.Previous, e.ContentHash()));
        Assert.NotEqual(e.Hash, LedgerEntry.Link(7, 2, 1, e.Previous, e.ContentHash()));
        Assert.NotEqual(e.Hash, LedgerEntry.Link(7, 2, 0, Hash256.Zero, e.ContentHash()));
    }

    [Fact]
    public void The_Merkle_root_pairs_with_a_prefix_and_carries_an_odd_node_up()
    {
        var leaves = Enumerable.Range(0, 3).Select(i => Keccak256.Hash([(byte)i])).ToArray();
        Assert.Equal(Hash256.Zero, MerkleRoot.Compute([]));
        Assert.Equal(leaves[0], MerkleRoot.Compute([leaves[0]]));
        byte[] pair = [0x01, .. leaves[0].ToArray(), .. leaves[1].ToArray()];
        var left = Keccak256.Hash(pair);
        byte[] top = [0x01, .. left.ToArray(), .. leaves[2].ToArray()];
        Assert.Equal(Keccak256.Hash(top), MerkleRoot.Compute(leaves));
    }

    private const string GoldenContent =
        "12636169726e2e6c65646765722e656e747279010c000000736574746c652f7265712d31048ad7c532f0538a191f1e436b6ca6710d0a78a349291c8b8f31962a26fb22e7e82a000000307843413030303030303030303030303030303030303030303030303030303030303030303030303032050000007265712d31030000000a000000686f6c643a7265712d3118fcffffffffffff3c00000070726f76696465722d6561726e696e67733a3078434130303030303030303030303030303030303030303030303030303030303030303030303030322003000000000000080000007472656173757279c800000000000000";
    private const string GoldenHash = "1c9d5eeb090ff25869e6d04c7b8d8b0fc0ad9a7fdb7e6e718c0fcbb767e6f543";
}
