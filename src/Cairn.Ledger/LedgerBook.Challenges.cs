using System.Globalization;
using Cairn.Ledger.Accounts;
using Cairn.Ledger.Journal;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Sampling;

namespace Cairn.Ledger;

/// <summary>An epoch's challenge secret as the journal records it: the commitment and rate, and the secret once revealed.</summary>
public sealed record EpochSecretRecord(long Epoch, Hash256 Commitment, Probability ChallengeRate, Hash256? Secret);

/// <summary>One way in which the recorded challenges of a revealed epoch differ from what its secret draws.</summary>
public sealed record DrawDiscrepancy(long Epoch, Hash256 Receipt, string Problem);

/// <summary>What <see cref="LedgerBook.AuditDraws"/> found.</summary>
public sealed record DrawAudit(IReadOnlyList<EpochSecretRecord> Epochs, long ReceiptsChecked, long Challenged, IReadOnlyList<DrawDiscrepancy> Discrepancies)
{
    public bool IsFair => Discrepancies.Count == 0;
}

/// <summary>How a matched challenge is paid from the validator pool (DESIGN.md §4.3); what was actually paid after <see cref="LedgerBook.RewardChallenge"/>.</summary>
public sealed record ChallengePayment(long AsserterReward, long PerValidatorReward, int Validators, long ClientDiscount)
{
    public long Total => AsserterReward + PerValidatorReward * Validators + ClientDiscount;
}

public sealed partial class LedgerBook
{
    /// <summary>Entry id of epoch N's secret commitment.</summary>
    public static string EpochSecretId(long epoch) => "epoch/" + epoch.ToString(CultureInfo.InvariantCulture) + "/secret";

    /// <summary>Entry id of epoch N's secret reveal.</summary>
    public static string EpochRevealId(long epoch) => "epoch/" + epoch.ToString(CultureInfo.InvariantCulture) + "/reveal";

    /// <summary>Entry id recording that the receipt was challenged.</summary>
    public static string ChallengeDrawnId(Hash256 receipt) => "challenge/" + receipt + "/drawn";

    /// <summary>Entry id of a matched challenge's payments.</summary>
    public static string ChallengeRewardId(Hash256 receipt) => "challenge/" + receipt + "/reward";

    private const string RatePrefix = "challenge-rate-ppm:";

    /// <summary>
    /// Commits, before any draw of <paramref name="epoch"/> (which must be the open epoch), to the epoch's secret:
    /// <paramref name="commitment"/> = Keccak-256(secret) (DESIGN.md §4.1), with the challenge rate the draws use. One
    /// commitment per epoch: re-applying the same one is a no-op, another one is a conflict and writes nothing.
    /// </summary>
    public LedgerResult CommitEpochSecret(long epoch, Hash256 commitment, Probability rate) =>
        Apply(EpochSecretId(epoch), tx => epoch != tx.Head.Epoch && tx.FindEntry(EpochSecretId(epoch)) is null
            ? Failure(LedgerErrors.EpochNotOpen, $"a secret is committed for the open epoch ({tx.Head.Epoch}); not for epoch {epoch}")
            : Build(EntryKind.EpochSecretCommitted, commitment, RatePrefix + rate.PartsPerMillion.ToString(CultureInfo.InvariantCulture),
                epoch.ToString(CultureInfo.InvariantCulture)));

    /// <summary>
    /// Reveals epoch <paramref name="epoch"/>'s secret once the epoch is closed. Refused (nothing written) when the epoch
    /// is still open, has no commitment, or Keccak-256 of <paramref name="secret"/> is not the commitment.
    /// </summary>
    public LedgerResult RevealEpochSecret(long epoch, Hash256 secret)
    {
        // The commitment is immutable once written, so reading it before the write transaction is safe.
        string commitId = EpochSecretId(epoch);
        var committed = Store.ReadJournal().FirstOrDefault(e => e.Id == commitId);
        if (committed is null) return LedgerResult.Fail(LedgerErrors.UnknownEpochSecret, $"epoch {epoch} has no committed secret");
        if (!ChallengeDraw.VerifyReveal(committed.Authorization, secret.ToArray()))
            return LedgerResult.Fail(LedgerErrors.RevealMismatch, $"Keccak-256 of the revealed secret is not epoch {epoch}'s commitment {committed.Authorization}");
        return Apply(EpochRevealId(epoch), tx => epoch >= tx.Head.Epoch && tx.FindEntry(EpochRevealId(epoch)) is null
            ? Failure(LedgerErrors.EpochNotClosed, $"epoch {epoch} is still open; its secret is revealed after it closes")
            : Build(EntryKind.EpochSecretRevealed, secret, "", epoch.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>
    /// Records that <paramref name="receipt"/>, settled in <paramref name="epoch"/>, was challenged by that epoch's draw;
    /// <see cref="AuditDraws"/> compares these records with what the revealed secret draws.
    /// </summary>
    public LedgerResult RecordChallengeDrawn(Hash256 receipt, long epoch, Address asserter) =>
        Apply(ChallengeDrawnId(receipt), tx => tx.FindEntry(EpochSecretId(epoch)) is null
            ? Failure(LedgerErrors.UnknownEpochSecret, $"epoch {epoch} has no committed secret, so nothing can have been drawn with it")
            : Build(EntryKind.ChallengeDrawn, receipt, asserter.ToString(), epoch.ToString(CultureInfo.InvariantCulture)));

    /// <summary>
    /// Pays a matched challenge from the validator pool in one entry (DESIGN.md §4.3): <c>R_A</c> to the asserter's
    /// earnings, <c>R_V / n</c> to each validator's, the discount back to the client. When the pool holds less than the
    /// whole, validators are paid first, then the asserter, then the client, each as far as the pool goes (never below
    /// zero); <paramref name="paid"/> says what was paid. Nothing to pay writes nothing.
    /// </summary>
    public LedgerResult RewardChallenge(Hash256 receipt, Address asserter, IReadOnlyList<Address> validators, Address client, ChallengePayment payment,
        out ChallengePayment paid)
    {
        ArgumentNullException.ThrowIfNull(validators);
        ArgumentNullException.ThrowIfNull(payment);
        paid = payment with { AsserterReward = 0, PerValidatorReward = 0, ClientDiscount = 0 };
        if (payment.AsserterReward < 0 || payment.PerValidatorReward < 0 || payment.ClientDiscount < 0)
            return LedgerResult.Fail(LedgerErrors.InvalidAmount, "challenge rewards and discounts must not be negative");
        if (validators.Count != payment.Validators || validators.Count == 0)
            return LedgerResult.Fail(LedgerErrors.InvalidAmount, $"{payment.Validators} validators are paid, {validators.Count} named (at least one)");
        if (validators.Distinct().Count() != validators.Count || validators.Contains(asserter))
            return LedgerResult.Fail(LedgerErrors.InvalidAmount, "validators must be distinct and not the asserter");
        ChallengePayment actual = paid;
        var result = Apply(ChallengeRewardId(receipt), tx =>
        {
            long pool = tx.Balance(Account.ValidatorPool) ?? 0;
            long perValidator = Math.Min(payment.PerValidatorReward, pool / validators.Count);
            pool -= perValidator * validators.Count;
            long asserterReward = Math.Min(payment.AsserterReward, pool);
            pool -= asserterReward;
            long discount = Math.Min(payment.ClientDiscount, pool);
            actual = payment with { AsserterReward = asserterReward, PerValidatorReward = perValidator, ClientDiscount = discount };
            if (actual.Total == 0) return Failure(LedgerErrors.NothingToPay, "the validator pool is empty or nothing is owed");
            var postings = new List<Posting> { new(Account.ValidatorPool, -actual.Total) };
            foreach (var v in validators) Add(postings, Account.ProviderEarnings(v), perValidator);
            Add(postings, Account.ProviderEarnings(asserter), asserterReward);
            Add(postings, Account.Client(client), discount);
            return Build(EntryKind.ChallengeReward, receipt, asserter.ToString(), "", [.. postings]);
        });
        if (result.IsOk) paid = result.Replayed ? RecordedPayment(receipt, asserter, validators, client) : actual;
        return result;
    }

    private ChallengePayment RecordedPayment(Hash256 receipt, Address asserter, IReadOnlyList<Address> validators, Address client)
    {
        var entry = Store.ReadJournal().Single(e => e.Id == ChallengeRewardId(receipt));
        long Of(string account) => entry.Postings.Where(p => p.Account == account).Sum(p => p.Amount);
        return new ChallengePayment(Of(Account.ProviderEarnings(asserter)), Of(Account.ProviderEarnings(validators[0])), validators.Count, Of(Account.Client(client)));
    }

    /// <summary>Every committed epoch secret, with its reveal where there is one, in epoch order.</summary>
    public IReadOnlyList<EpochSecretRecord> EpochSecrets() => EpochSecrets(Store.ReadJournal());

    private static IReadOnlyList<EpochSecretRecord> EpochSecrets(IEnumerable<LedgerEntry> journal)
    {
        var records = new SortedDictionary<long, EpochSecretRecord>();
        foreach (var e in journal)
        {
            if (e.Kind is not (EntryKind.EpochSecretCommitted or EntryKind.EpochSecretRevealed)) continue;
            long epoch = long.Parse(e.Reference, NumberStyles.None, CultureInfo.InvariantCulture);
            if (e.Kind == EntryKind.EpochSecretCommitted)
            {
                var ppm = uint.Parse(e.Subject.AsSpan(RatePrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture);
                records[epoch] = new EpochSecretRecord(epoch, e.Authorization, new Probability(ppm), null);
            }
            else records[epoch] = records[epoch] with { Secret = e.Authorization };
        }
        return [.. records.Values];
    }

    /// <summary>
    /// Re-runs every draw of every revealed epoch (DESIGN.md §4.1: "anyone can audit that draws were fair"): each
    /// receipt settled in epoch N is challenged iff <c>ChallengeDraw.IsChallenged(secret_N, receipt, p_N)</c>, and the
    /// journal must record exactly those as <see cref="EntryKind.ChallengeDrawn"/> — no drawn receipt left unchallenged
    /// (a gateway sparing a provider), none challenged that the draw did not pick (a gateway harassing one).
    /// </summary>
    public DrawAudit AuditDraws()
    {
        var journal = Store.ReadJournal().ToList(); // one read: secrets, settlements and records all come from it
        var epochs = EpochSecrets(journal);
        var revealed = epochs.Where(e => e.Secret is not null).ToDictionary(e => e.Epoch);
        var settled = new List<(long Epoch, Hash256 Receipt)>();
        var recorded = new Dictionary<Hash256, long>();
        foreach (var e in journal)
        {
            if (e.Kind == EntryKind.Settle && revealed.ContainsKey(e.Epoch)) settled.Add((e.Epoch, e.Authorization));
            else if (e.Kind == EntryKind.ChallengeDrawn) recorded[e.Authorization] = long.Parse(e.Reference, NumberStyles.None, CultureInfo.InvariantCulture);
        }
        var problems = new List<DrawDiscrepancy>();
        long challenged = 0;
        var seen = new HashSet<Hash256>();
        foreach (var (epoch, receipt) in settled)
        {
            seen.Add(receipt);
            var secret = revealed[epoch];
            bool drawn = ChallengeDraw.IsChallenged(secret.Secret!.Value.ToArray(), receipt, secret.ChallengeRate);
            bool isRecorded = recorded.TryGetValue(receipt, out long recordedEpoch);
            if (drawn) challenged++;
            if (drawn && !isRecorded) problems.Add(new DrawDiscrepancy(epoch, receipt, "drawn by the epoch's secret but never challenged"));
            else if (!drawn && isRecorded) problems.Add(new DrawDiscrepancy(epoch, receipt, "challenged although the epoch's secret does not draw it"));
            else if (isRecorded && recordedEpoch != epoch) problems.Add(new DrawDiscrepancy(epoch, receipt, $"settled in epoch {epoch} but drawn with epoch {recordedEpoch}'s secret"));
        }
        foreach (var (receipt, epoch) in recorded)
        {
            if (revealed.ContainsKey(epoch) && !seen.Contains(receipt)) problems.Add(new DrawDiscrepancy(epoch, receipt, "challenged, but no settlement of this receipt is in the epoch"));
        }
        return new DrawAudit(epochs, settled.Count, challenged, problems);
    }
}
