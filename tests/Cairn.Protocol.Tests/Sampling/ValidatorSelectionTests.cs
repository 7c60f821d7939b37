using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Sampling;

namespace Cairn.Protocol.Tests.Sampling;

public class ValidatorSelectionTests
{
    private static readonly byte[] Secret = Enumerable.Repeat((byte)0x5a, 32).ToArray();

    private static Address Addr(int i)
    {
        var b = new byte[20];
        b[0] = (byte)(i * 37 + 11); // not in index order, so the sort matters
        b[19] = (byte)i;
        return new Address(b);
    }

    private static Hash256 ReceiptHash(int i) => Keccak256.Hash(BitConverter.GetBytes(i));

    private static List<ValidatorCandidate> Candidates(params ulong[] stakes) =>
        stakes.Select((s, i) => new ValidatorCandidate(Addr(i), Addr(100 + i), s)).ToList();

    [Fact]
    public void First_validator_is_chosen_in_proportion_to_stake()
    {
        var candidates = Candidates(0, 1_000, 2_000, 3_000, 4_000); // candidate 0 is the asserter
        const int draws = 20_000;
        var counts = new Dictionary<Address, int>();
        for (int i = 0; i < draws; i++)
        {
            var v = ValidatorSelection.Select(Secret, ReceiptHash(i), candidates, Addr(0), Addr(100), 1).Single();
            counts[v.Provider] = counts.GetValueOrDefault(v.Provider) + 1;
        }
        double chi2 = 0;
        for (int k = 1; k <= 4; k++)
        {
            double expected = draws * k / 10.0;
            double observed = counts.GetValueOrDefault(Addr(k));
            chi2 += (observed - expected) * (observed - expected) / expected;
        }
        Assert.True(chi2 < 18.47, $"chi-square {chi2:F2} over 3 degrees of freedom (p = 0.0003 bound 18.47)");
    }

    [Fact]
    public void Pairs_without_replacement_follow_successive_stake_weighting()
    {
        var candidates = Candidates(1, 1, 2); // weights 1:1:2 for A,B,C; none excluded (asserter is outside)
        const int draws = 20_000;
        var counts = new Dictionary<(Address, Address), int>();
        for (int i = 0; i < draws; i++)
        {
            var v = ValidatorSelection.Select(Secret, ReceiptHash(i), candidates, Addr(50), Addr(150), 2);
            Assert.Equal(2, v.Count);
            Assert.NotEqual(v[0].Provider, v[1].Provider);
            counts[(v[0].Provider, v[1].Provider)] = counts.GetValueOrDefault((v[0].Provider, v[1].Provider)) + 1;
        }
        // P(first = x, second = y) = w_x / 4 · w_y / (4 − w_x)
        double chi2 = 0;
        ulong[] w = [1, 1, 2];
        for (int x = 0; x < 3; x++)
            for (int y = 0; y < 3; y++)
            {
                if (x == y) continue;
                double expected = draws * (w[x] / 4.0) * (w[y] / (4.0 - w[x]));
                double observed = counts.GetValueOrDefault((Addr(x), Addr(y)));
                chi2 += (observed - expected) * (observed - expected) / expected;
            }
        Assert.True(chi2 < 25.74, $"chi-square {chi2:F2} over 5 degrees of freedom (p = 0.0001 bound 25.74)");
    }

    [Fact]
    public void Asserter_and_its_operator_and_unstaked_providers_are_never_chosen()
    {
        var op = Addr(200);
        var candidates = new List<ValidatorCandidate>
        {
            new(Addr(1), op, 1_000_000),        // the asserter
            new(Addr(2), op, 1_000_000),        // same operator
            new(Addr(3), Addr(103), 0),         // no stake
            new(Addr(4), Addr(104), 1),
            new(Addr(5), Addr(105), 1),
        };
        for (int i = 0; i < 500; i++)
        {
            var v = ValidatorSelection.Select(Secret, ReceiptHash(i), candidates, Addr(1), op, 5);
            Assert.Equal([Addr(4), Addr(5)], v.Select(c => c.Provider).Order(Comparer<Address>.Create((a, b) => a.ToArray().AsSpan().SequenceCompareTo(b.ToArray()))));
        }
    }

    [Fact]
    public void Selection_is_deterministic_and_independent_of_list_order()
    {
        var candidates = Candidates(5, 7, 11, 13, 17, 19);
        var shuffled = candidates.AsEnumerable().Reverse().ToList();
        for (int i = 0; i < 200; i++)
        {
            var a = ValidatorSelection.Select(Secret, ReceiptHash(i), candidates, Addr(99), Addr(199), 3);
            var b = ValidatorSelection.Select(Secret, ReceiptHash(i), shuffled, Addr(99), Addr(199), 3);
            var c = ValidatorSelection.Select(Secret, ReceiptHash(i), candidates, Addr(99), Addr(199), 3);
            Assert.Equal(a, b);
            Assert.Equal(a, c);
        }
        // and it depends on the secret
        int differ = 0;
        for (int i = 0; i < 200; i++)
        {
            var a = ValidatorSelection.Select(Secret, ReceiptHash(i), candidates, Addr(99), Addr(199), 1)[0];
            var b = ValidatorSelection.Select(new byte[32], ReceiptHash(i), candidates, Addr(99), Addr(199), 1)[0];
            if (a != b) differ++;
        }
        Assert.True(differ > 100);
    }

    [Fact]
    public void Duplicate_candidates_are_refused() =>
        Assert.Throws<ArgumentException>(() => ValidatorSelection.Select(Secret, ReceiptHash(0), [new(Addr(1), Addr(2), 1), new(Addr(1), Addr(3), 1)], Addr(9), Addr(9), 1));

    [Fact]
    public void Huge_stakes_do_not_overflow()
    {
        var candidates = Candidates(ulong.MaxValue, ulong.MaxValue, 1);
        var v = ValidatorSelection.Select(Secret, ReceiptHash(0), candidates, Addr(99), Addr(199), 3);
        Assert.Equal(3, v.Count);
    }
}
