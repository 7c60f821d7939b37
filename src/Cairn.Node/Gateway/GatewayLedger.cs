using Cairn.Ledger;
using Cairn.Ledger.Accounts;
using Cairn.Ledger.Contributions;
using Cairn.Ledger.Economics;
using Cairn.Ledger.Storage;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;

namespace Cairn.Node.Gateway;

/// <summary>
/// The gateway's view of the ledger (DESIGN.md §5): a request's price limit is held from its client before any work,
/// and every answered request ends in exactly one settlement (or one release when no provider answered). On a local
/// network the gateway also acts as faucet: API-key clients start with <see cref="GatewayOptions.InitialCredit"/> and a
/// registering provider without stake gets <see cref="GatewayOptions.GenesisStake"/> bonded, both idempotent.
/// </summary>
public sealed class GatewayLedger : IDisposable
{
    private readonly ILedgerStore _store;
    private readonly Lock _gate = new();

    public GatewayLedger(GatewayOptions options)
    {
        _store = options.Postgres is { } cs ? new PostgresLedgerStore(cs) : SqliteLedgerStore.OpenInDirectory(EnsureDirectory(options.DataDirectory));
        Book = new LedgerBook(_store, new LedgerOptions());
        Contributions = new ContributionRegistry(_store);
        GenesisStake = options.GenesisStake ?? Book.Options.MinimumStake;
        foreach (var client in options.ApiKeys.Values.Distinct())
        {
            if (options.InitialCredit > 0) Check(Book.Deposit($"genesis-credit/{client}", client, options.InitialCredit, Hash256.Zero), "initial credit");
        }
    }

    public LedgerBook Book { get; }

    /// <summary>The registered models and adapters (docs/contributions.md): royalties at settlement, and who may serve a private one.</summary>
    public ContributionRegistry Contributions { get; }
    public long GenesisStake { get; }

    /// <summary>A provider that registers with no stake is bonded the genesis stake once (a local network's faucet).</summary>
    public void EnsureStake(Address provider)
    {
        if (GenesisStake <= 0) return;
        lock (_gate)
        {
            Check(Book.Deposit($"genesis-stake-deposit/{provider}", provider, GenesisStake, Hash256.Zero), "genesis stake");
            Check(Book.Bond($"genesis-stake/{provider}", provider, GenesisStake, Hash256.Zero), "genesis stake");
        }
    }

    public bool IsEligible(Address provider)
    {
        lock (_gate) return Book.IsEligible(provider);
    }

    public LedgerResult Hold(string holdId, Address client, long amount, Hash256 request)
    {
        lock (_gate) return Book.Hold(holdId, client, amount, request);
    }

    /// <summary>
    /// Settles a hold; <paramref name="epoch"/> is the epoch the settlement landed in (whose secret draws the receipt's
    /// challenge). The request's <paramref name="model"/> and <paramref name="adapters"/> are looked up in the
    /// contributions registry: each registered one is paid its royalty basis points of the fee, the provider the rest
    /// (<see cref="ContributionRegistry.PartiesFor"/>); with none registered the ledger's fee split applies.
    /// </summary>
    /// <param name="stages">A pipelined request: its stages in layer order (the last is <paramref name="provider"/>); the
    /// provider's share is split by layers served (<see cref="SettlementParties.Stages"/>).</param>
    public LedgerResult Settle(string holdId, long fee, Address provider, Hash256 receipt, Hash256 model, IReadOnlyList<Hash256> adapters, out long epoch,
        IReadOnlyList<StageShare>? stages = null)
    {
        var parties = Contributions.PartiesFor(provider, model, adapters) with { Stages = stages };
        lock (_gate)
        {
            var result = Book.Settle(holdId, fee, parties, receipt);
            epoch = Book.OpenEpoch; // epochs close under the same lock, so this is the settlement's epoch
            return result;
        }
    }

    /// <summary>
    /// Why a request on <paramref name="model"/> with <paramref name="adapters"/> cannot be settled — their registered
    /// royalties together exceed what the validator pool and the treasury leave of a fee — or null. Checked before the hold,
    /// so such a request is refused up front instead of failing at settlement.
    /// </summary>
    public string? RoyaltyProblem(Hash256 model, IReadOnlyList<Hash256> adapters)
    {
        var royalties = Contributions.PartiesFor(Address.Zero, model, adapters).Royalties;
        if (royalties is null) return null;
        long total = royalties.Sum(r => (long)r.Bps);
        int max = LedgerBook.MaxRoyaltyBps(Book.Options.FeeSplit);
        return total > max ? $"the registered royalties of this model and its adapters total {total} bps, more than the {max} bps a fee can pay; use fewer adapters" : null;
    }

    /// <summary>Commits the open epoch's challenge secret (Keccak-256 of it) with the rate its draws use.</summary>
    public void CommitEpochSecret(long epoch, Hash256 commitment, Cairn.Protocol.Sampling.Probability rate)
    {
        lock (_gate) Check(Book.CommitEpochSecret(epoch, commitment, rate), $"committing epoch {epoch}'s secret");
    }

    /// <summary>Reveals a closed epoch's secret.</summary>
    public void RevealEpochSecret(long epoch, Hash256 secret)
    {
        lock (_gate) Check(Book.RevealEpochSecret(epoch, secret), $"revealing epoch {epoch}'s secret");
    }

    /// <summary>Records that the receipt, settled in <paramref name="epoch"/>, was drawn for a challenge.</summary>
    public void RecordChallengeDrawn(Hash256 receipt, long epoch, Address asserter)
    {
        lock (_gate) Check(Book.RecordChallengeDrawn(receipt, epoch, asserter), "recording a challenge");
    }

    /// <summary>Pays a matched challenge from the validator pool (R_A, R_V / n each, the client's discount), as far as the pool goes; what was paid.</summary>
    public ChallengePayment RewardChallenge(Hash256 receipt, Address asserter, IReadOnlyList<Address> validators, Address client, ChallengePayment payment)
    {
        lock (_gate)
        {
            var result = Book.RewardChallenge(receipt, asserter, validators, client, payment, out var paid);
            if (result.Code == LedgerErrors.NothingToPay) return paid;
            Check(result, "challenge reward");
            return paid;
        }
    }

    public LedgerResult Release(string holdId, Hash256 request)
    {
        lock (_gate) return Book.Release(holdId, request);
    }

    /// <summary>Closes the open epoch: payouts above the threshold, then the epoch's Merkle root recorded.</summary>
    public (long Epoch, Hash256 Root) CloseEpoch()
    {
        lock (_gate)
        {
            long epoch = Book.OpenEpoch;
            Check(Book.CloseEpoch(epoch, out var root), $"closing epoch {epoch}");
            return (epoch, root);
        }
    }

    /// <summary>The epoch entries are written into now.</summary>
    public long OpenEpoch
    {
        get { lock (_gate) return Book.OpenEpoch; }
    }

    /// <summary>A provider's bonded stake (0 when it has none).</summary>
    public long StakeOf(Address provider)
    {
        lock (_gate) return Book.TryGetBalance(Account.ProviderStake(provider), out long b).IsOk ? b : 0;
    }

    /// <summary>A provider's unpaid earnings (0 when it has none).</summary>
    public long EarningsOf(Address provider)
    {
        lock (_gate) return Book.TryGetBalance(Account.ProviderEarnings(provider), out long b).IsOk ? b : 0;
    }

    /// <summary>Pays a validator up to <paramref name="amount"/> from the validator pool (less when the pool holds less); returns what was paid.</summary>
    public long RewardValidator(string entryId, Address validator, long amount, Hash256 challenge)
    {
        lock (_gate)
        {
            long pool = Book.TryGetBalance(Account.ValidatorPool, out long b).IsOk ? b : 0;
            long paid = Math.Min(amount, pool);
            if (paid <= 0) return 0;
            Check(Book.RewardValidator(entryId, validator, paid, challenge), "validator reward");
            return paid;
        }
    }

    /// <summary>Slashes up to <paramref name="amount"/> of the provider's stake (less when it holds less), half to the winner (none: all burned); returns what was taken.</summary>
    public long Slash(string entryId, Address provider, long amount, Hash256 evidence, Address? winner)
    {
        lock (_gate)
        {
            long stake = Book.TryGetBalance(Account.ProviderStake(provider), out long b).IsOk ? b : 0;
            long taken = Math.Min(amount, stake);
            if (taken <= 0) return 0;
            Check(Book.Slash(entryId, provider, taken, evidence, winner), "slash");
            return taken;
        }
    }

    /// <summary>Any account's balance by name (0 when it has none).</summary>
    public long AccountBalance(string account)
    {
        lock (_gate) return Book.TryGetBalance(account, out long b).IsOk ? b : 0;
    }

    /// <summary>How many entries the journal holds.</summary>
    public long EntryCount
    {
        get { lock (_gate) return Book.Store.ReadHead().Sequence; }
    }

    public long Balance(Address client)
    {
        lock (_gate) return Book.TryGetBalance(Account.Client(client), out long b).IsOk ? b : 0;
    }

    private static void Check(LedgerResult r, string what)
    {
        if (!r.IsOk) throw new InvalidOperationException($"ledger: {what}: {r}");
    }

    private static string EnsureDirectory(string dir)
    {
        Directory.CreateDirectory(dir);
        return dir;
    }

    public void Dispose() => _store.Dispose();
}
