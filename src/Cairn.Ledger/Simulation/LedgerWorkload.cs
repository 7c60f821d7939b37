using Cairn.Ledger.Accounts;
using Cairn.Ledger.Economics;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;

namespace Cairn.Ledger.Simulation;

/// <summary>
/// A deterministic stream of ledger operations for property tests, crash tests (<c>cairn ledger apply-stream</c>) and
/// benchmarks. Operation <c>i</c> depends only on (seed, i), never on earlier results, so a process that restarts the
/// stream from 0 after a crash replays what it had applied (no-ops) and then continues exactly as an uninterrupted run
/// would. Operations: deposits, holds, settlements and releases of earlier holds, bonds, unbonds, stake withdrawals,
/// slashes, payouts and epoch closes, among 8 clients and 4 providers; many fail on purpose (insufficient funds, holds
/// already closed, immature unbondings), which must write nothing. A refused operation may succeed if it is tried later
/// in another state, so a restarted stream resumes at <see cref="ResumeIndex"/> — the last operation that left an
/// entry (re-applied: a no-op) — rather than at 0; each entry's authorization records which operation wrote it.
/// </summary>
public sealed class LedgerWorkload(int seed, int clients = 8, int providers = 4)
{
    public static Address Party(int n)
    {
        Span<byte> bytes = stackalloc byte[Address.Size];
        bytes.Clear();
        bytes[0] = 0xca;
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes[16..], n);
        return new Address(bytes);
    }

    public Address Client(int i) => Party(1 + i);

    public Address Provider(int i) => Party(1000 + i);

    /// <summary>Applies operation <paramref name="index"/>; returns its entry id and the result.</summary>
    public (string Id, LedgerResult Result) Apply(LedgerBook ledger, long index)
    {
        var rng = Rng(index);
        rng.Next(); // the kind's draw (KindOf)
        int roll = rng.Next(100);
        string id = $"w{seed}-{index}";
        var auth = Authorization(index);
        Address client = Client(rng.Next(clients)), provider = Provider(rng.Next(providers));
        long amount = 1 + rng.Next(5_000);
        switch (KindOf(index))
        {
            case Op.Deposit: return (id, ledger.Deposit(id, rng.Next(4) == 0 ? provider : client, amount * 20, auth));
            case Op.Hold: return ("hold/" + id, ledger.Hold(id, client, amount, auth));
            case Op.SettleOrRelease:
                long target = index - 1 - rng.Next((int)Math.Min(index, 40) + 1);
                if (target < 0 || KindOf(target) != Op.Hold) return (id, ledger.Deposit(id, client, amount, auth));
                string holdId = $"w{seed}-{target}";
                if (roll < 20) return ("release/" + holdId, ledger.Release(holdId, auth));
                var parties = new SettlementParties(provider, roll < 60 ? Party(5000) : null, roll < 40 ? [Party(6000), Party(6001), Party(6002)] : null);
                return ("settle/" + holdId, ledger.Settle(holdId, rng.Next(6_000), parties, auth));
            case Op.Bond: return (id, ledger.Bond(id, provider, amount * 10, auth));
            case Op.Unbond: return (id, ledger.Unbond(id, provider, amount, auth));
            case Op.WithdrawStake: return (id, ledger.WithdrawStake(id, provider, amount / 2 + 1, auth));
            case Op.Slash: return (id, ledger.Slash(id, provider, amount, auth, roll < 50 ? Provider(rng.Next(providers)) : null));
            case Op.Payout:
                string account = roll < 50 ? Account.ProviderEarnings(provider) : Account.Treasury;
                return (id, ledger.Payout(id, account, amount / 4 + 1, auth));
            case Op.Withdraw: return (id, ledger.Withdraw(id, client, amount, auth));
            default:
                long epoch = ClosesBefore(index);
                return (LedgerBook.EpochCloseId(epoch), ledger.CloseEpoch(epoch, out _));
        }
    }

    private static ReadOnlySpan<byte> Magic => "cairn-wl"u8;

    /// <summary>The authorization the workload gives operation <paramref name="index"/>: "cairn-wl" ‖ seed ‖ index ‖ zeros.</summary>
    public Hash256 Authorization(long index)
    {
        Span<byte> bytes = stackalloc byte[Hash256.Size];
        bytes.Clear();
        Magic.CopyTo(bytes);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(bytes[8..], seed);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(bytes[16..], index);
        return new Hash256(bytes);
    }

    /// <summary>Where a restarted stream continues: the index of the last operation of this seed that wrote an entry (0 if none).</summary>
    public long ResumeIndex(Storage.ILedgerStore store)
    {
        long last = 0;
        Span<byte> bytes = stackalloc byte[Hash256.Size];
        foreach (var entry in store.ReadJournal())
        {
            entry.Authorization.CopyTo(bytes);
            if (!bytes[..8].SequenceEqual(Magic) || System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(bytes[8..]) != seed) continue;
            last = Math.Max(last, System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(bytes[16..]));
        }
        return last;
    }

    private readonly List<long> _closesBefore = [0];

    /// <summary>How many epoch closes come before operation <paramref name="index"/>: the epoch it closes, whatever was replayed.</summary>
    private long ClosesBefore(long index)
    {
        while (_closesBefore.Count <= index) _closesBefore.Add(_closesBefore[^1] + (KindOf(_closesBefore.Count - 1) == Op.CloseEpoch ? 1 : 0));
        return _closesBefore[(int)index];
    }

    private enum Op { Deposit, Hold, SettleOrRelease, Bond, Unbond, WithdrawStake, Slash, Payout, Withdraw, CloseEpoch }

    private Op KindOf(long index)
    {
        int r = Rng(index).Next(1000);
        return r switch
        {
            < 150 => Op.Deposit,
            < 450 => Op.Hold,
            < 750 => Op.SettleOrRelease,
            < 800 => Op.Bond,
            < 840 => Op.Unbond,
            < 870 => Op.WithdrawStake,
            < 900 => Op.Slash,
            < 940 => Op.Payout,
            < 990 => Op.Withdraw,
            _ => Op.CloseEpoch,
        };
    }

    // System.Random(int) is specified to give the same sequence for the same seed on every run and platform.
    private Random Rng(long index)
    {
        ulong z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)index * 0xBF58476D1CE4E5B9UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return new Random((int)(z ^ (z >> 31)));
    }
}
