using System.Security.Cryptography;
using Cairn.Node.Rpc;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Messages;
using Cairn.Protocol.Sampling;

namespace Cairn.Node.Gateway;

/// <summary>
/// Proof of Sampling in the gateway (DESIGN.md §4, docs/verification.md "In the network"). Each ledger epoch has a fresh
/// random secret whose Keccak-256 commitment is logged when the epoch opens and whose value is revealed (logged, and shown
/// at <c>GET /v1/challenges</c>) when it closes. After a receipt was verified and settled, it is challenged iff
/// <see cref="ChallengeDraw.IsChallenged"/>; then n validators (<see cref="GatewayOptions.Validators"/>) are drawn
/// stake-weighted (<see cref="ValidatorSelection"/>) among the other healthy, eligible providers of the model and
/// re-execute the same signed request in the background. Equal output commitments: the validator is paid R_V / n from the
/// validator pool and the asserter's reputation records a pass. Unequal: a dispute (ChallengeService.Dispute.cs) refereed
/// on the gateway's own copy of the model (<see cref="RefereeModels"/>), or, without one, a tie-breaker re-execution.
/// Off (nothing runs, nothing is drawn) when <see cref="GatewayOptions.ChallengeRate"/> is zero.
/// </summary>
public sealed partial class ChallengeService(ProviderDirectory directory, GatewayLedger ledger, GatewayOptions options, RefereeModels referees, TimeProvider time,
    ILogger<ChallengeService> log)
{
    /// <summary>How long a validator may take to re-execute a request.</summary>
    public static readonly TimeSpan ValidationTimeout = TimeSpan.FromMinutes(2);

    private readonly Lock _gate = new();
    private readonly List<ChallengeView> _challenges = [];
    private readonly List<EpochSecretView> _epochs = [];
    private byte[]? _secret;
    private long _epoch;
    private int _pending;

    public bool Enabled => options.ChallengeRate.PartsPerMillion > 0;
    public long Slash => options.Slash ?? ledger.Book.Options.MinimumStake;
    /// <summary>Challenges drawn whose validation has not finished yet.</summary>
    public int Pending => Volatile.Read(ref _pending);

    /// <summary>Opens the secret of the ledger's open epoch; called once at start-up.</summary>
    public void Start()
    {
        if (!Enabled) return;
        lock (_gate) OpenEpoch(ledger.OpenEpoch);
    }

    /// <summary>The ledger closed <paramref name="closed"/>: reveal its secret and commit to the next one.</summary>
    public void EpochClosed(long closed)
    {
        if (!Enabled) return;
        lock (_gate)
        {
            if (_secret != null && _epoch == closed)
            {
                int i = _epochs.FindIndex(e => e.Epoch == closed);
                _epochs[i] = _epochs[i] with { Secret = Convert.ToHexStringLower(_secret) };
                GatewayLog.EpochSecretRevealed(log, closed, Convert.ToHexStringLower(_secret));
            }
            OpenEpoch(closed + 1);
        }
    }

    private void OpenEpoch(long epoch)
    {
        _secret = RandomNumberGenerator.GetBytes(Hash256.Size);
        _epoch = epoch;
        var commitment = ChallengeDraw.Commit(_secret);
        _epochs.Add(new EpochSecretView(epoch, commitment.ToString(), null));
        GatewayLog.EpochSecretCommitted(log, epoch, commitment.ToString());
    }

    /// <summary>
    /// Draws whether <paramref name="receipt"/> (verified and settled) is challenged; if so, starts its validation in the
    /// background and returns at once, so the client is never delayed.
    /// </summary>
    public void Consider(string requestId, string model, ProviderEntry asserter, GenerateRequest generate, InferenceRequest request, Receipt receipt, int[] tokens)
    {
        if (!Enabled) return;
        byte[] secret;
        long epoch;
        lock (_gate)
        {
            if (_secret is null) OpenEpoch(ledger.OpenEpoch);
            secret = _secret!;
            epoch = _epoch;
        }
        var receiptHash = receipt.Hash();
        if (!ChallengeDraw.IsChallenged(secret, receiptHash, options.ChallengeRate)) return;
        Interlocked.Increment(ref _pending);
        _ = Task.Run(async () =>
        {
            try
            {
                await Validate(requestId, model, asserter, generate, request, receipt, tokens, secret, epoch);
            }
            catch (Exception e)
            {
                log.LogError(e, "challenge of {RequestId} failed", requestId);
            }
            finally
            {
                Interlocked.Decrement(ref _pending);
            }
        });
    }

    private async Task Validate(string requestId, string model, ProviderEntry asserter, GenerateRequest generate, InferenceRequest request, Receipt receipt,
        int[] asserterTokens, byte[] secret, long epoch)
    {
        var receiptHash = receipt.Hash();
        string id = receiptHash.ToString();
        var asserterAddress = receipt.Provider;
        var candidates = new List<(ValidatorCandidate Candidate, ProviderEntry Entry)>();
        foreach (var p in directory.Healthy())
        {
            if (p.Id == asserter.Id || !p.Serves(model) || !Address.TryParse(p.Id, out var a, out _) || !ledger.IsEligible(a)) continue;
            long stake = ledger.StakeOf(a);
            if (stake > 0) candidates.Add((new ValidatorCandidate(a, a, (ulong)stake), p));
        }
        // Each provider is its own operator until operators are registered. n validators are drawn, and one more: the
        // tie-breaker, asked only when the gateway has no model to referee a disagreement with.
        var referee = referees.Find(request.ModelHash);
        int n = options.Validators;
        var chosen = ValidatorSelection.Select(secret, receiptHash, candidates.Select(c => c.Candidate), asserterAddress, asserterAddress, n + (referee is null ? 1 : 0));
        if (chosen.Count == 0)
        {
            Record(new ChallengeView(id, requestId, epoch, asserter.Id, null, "no-validator", null, receipt.OutputCommitment.ToString(), null, 0, 0, time.GetUtcNow(), null));
            GatewayLog.ChallengeUnvalidated(log, requestId, asserter.Id);
            return;
        }
        ProviderEntry EntryOf(ValidatorCandidate c) => candidates.First(x => x.Candidate.Provider == c.Provider).Entry;
        var validators = chosen.Take(n).Select(EntryOf).ToArray();
        var breaker = referee is null && chosen.Count > n ? EntryOf(chosen[n]) : null;
        var validation = generate.Clone();
        validation.Validation = true;
        var answers = await Task.WhenAll(validators.Select(v => Ask(v, validation, request)));
        var asserterSide = new Side(asserter, receipt, asserterTokens);
        for (int k = 0; k < validators.Length; k++)
        {
            var validator = validators[k];
            var (answer, tokens, failure) = answers[k];
            if (failure != null)
            {
                Record(new ChallengeView(id, requestId, epoch, asserter.Id, validator.Id, "validator-failed", null, receipt.OutputCommitment.ToString(), null, 0, 0, time.GetUtcNow(), null));
                GatewayLog.ChallengeValidatorFailed(log, requestId, validator.Id, failure);
                continue;
            }
            long reward = 0, slashed = 0;
            string verdict = "match";
            DisputeView? dispute = null;
            if (answer!.OutputCommitment == receipt.OutputCommitment)
            {
                reward = ledger.RewardValidator($"challenge/{id}/reward/{k}", answer.Provider, options.ValidatorReward / n, answer.Hash());
                directory.Reputation.RecordChallenge(asserter.Id, true);
            }
            else
            {
                // They disagree: the referee settles it on the gateway's own copy of the model, or without one a tie-breaker.
                dispute = referee != null
                    ? await Dispute($"{id}-{k}", requestId, referee, generate, request, asserterSide, new Side(validator, answer, tokens!))
                    : await TieBreak(id, k, breaker, validation, request, asserter, receipt, validator, answer);
                (verdict, slashed) = (dispute.Verdict, dispute.Slashed);
            }
            Record(new ChallengeView(id, requestId, epoch, asserter.Id, validator.Id, verdict, verdict == "match",
                receipt.OutputCommitment.ToString(), answer.OutputCommitment.ToString(), slashed, reward, time.GetUtcNow(), dispute));
            GatewayLog.ChallengeVerdict(log, requestId, asserter.Id, validator.Id, verdict, slashed, reward);
        }
    }

    /// <summary>
    /// Without a model to referee with: a third provider re-executes the request and, the engine being deterministic,
    /// equals the honest side bit for bit; whoever it contradicts is slashed (evidence: Keccak-256 of both receipt hashes).
    /// </summary>
    private async Task<DisputeView> TieBreak(string id, int k, ProviderEntry? breaker, GenerateRequest validation, InferenceRequest request,
        ProviderEntry asserter, Receipt receipt, ProviderEntry validator, Receipt answer)
    {
        Receipt? tie = null;
        if (breaker != null) (tie, _, _) = await Ask(breaker, validation, request);
        var evidence = PairHash(receipt, answer);
        string detail = $"the gateway has no model {request.ModelHash} to referee with (cairn gateway --model): settled by a re-execution on {breaker?.Id ?? "nobody (no other provider)"}";
        string disputeId = $"{id}-{k}";
        if (tie != null && tie.OutputCommitment == answer.OutputCommitment)
        {
            directory.Reputation.RecordChallenge(asserter.Id, false);
            long slashed = ledger.Slash($"challenge/{disputeId}/slash", receipt.Provider, Slash, evidence, answer.Provider);
            return new DisputeView(disputeId, "tie-breaker", null, null, null, "mismatch: asserter wrong", asserter.Id, slashed, null, detail);
        }
        if (tie != null && tie.OutputCommitment == receipt.OutputCommitment)
        {
            directory.Reputation.RecordChallenge(validator.Id, false);
            long slashed = ledger.Slash($"challenge/{disputeId}/slash-validator", answer.Provider, Slash, evidence, receipt.Provider);
            return new DisputeView(disputeId, "tie-breaker", null, null, null, "mismatch: validator wrong", validator.Id, slashed, null, detail);
        }
        return new DisputeView(disputeId, "tie-breaker", null, null, null, "mismatch: unresolved", null, 0, null, detail);
    }

    private static Hash256 PairHash(Receipt a, Receipt b)
    {
        Span<byte> both = stackalloc byte[2 * Hash256.Size];
        a.Hash().CopyTo(both);
        b.Hash().CopyTo(both[Hash256.Size..]);
        return Keccak256.Hash(both);
    }

    /// <summary>Re-executes the same signed request on <paramref name="validator"/>; its receipt and streamed tokens, or why there are none.</summary>
    private static async Task<(Receipt? Answer, int[]? Tokens, string? Failure)> Ask(ProviderEntry validator, GenerateRequest generate, InferenceRequest request)
    {
        validator.Begin();
        try
        {
            using var call = validator.Client.Generate(generate, deadline: DateTime.UtcNow.Add(ValidationTimeout));
            DoneEvent? done = null;
            var tokens = new List<int>();
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                var e = call.ResponseStream.Current;
                if (e.EventCase == GenerateEvent.EventOneofCase.Token)
                {
                    if (e.Token.Id >= 0) tokens.Add(e.Token.Id);
                    continue;
                }
                if (e.EventCase != GenerateEvent.EventOneofCase.Done) continue;
                done = e.Done;
                break;
            }
            if (done is null) return (null, null, "the validator ended without a receipt");
            var answer = ReceiptCheck.Check(done.Receipt.Span, request, validator.Id, out string? refused);
            if (refused != null) return (null, null, "validator: " + refused);
            if (answer!.CompletionTokens != tokens.Count) return (null, null, $"validator: its receipt counts {answer.CompletionTokens} tokens, it streamed {tokens.Count}");
            return (answer, tokens.ToArray(), null);
        }
        catch (Grpc.Core.RpcException e)
        {
            return (null, null, $"the validator failed: {e.Status.Detail}");
        }
        finally
        {
            validator.End();
        }
    }

    private void Record(ChallengeView c)
    {
        lock (_gate) _challenges.Add(c);
    }

    /// <summary>What <c>GET /v1/challenges</c> shows: the draws' epochs and secrets, every challenge, and each provider's stake and earnings.</summary>
    public ChallengeReport Report()
    {
        ChallengeView[] challenges;
        EpochSecretView[] epochs;
        lock (_gate)
        {
            challenges = [.. _challenges];
            epochs = [.. _epochs];
        }
        var providers = directory.All().Select(p =>
        {
            bool ok = Address.TryParse(p.Id, out var a, out _);
            return new ProviderAccountView(p.Id, ok ? ledger.StakeOf(a) : 0, ok ? ledger.EarningsOf(a) : 0, ok && ledger.IsEligible(a));
        }).ToArray();
        return new ChallengeReport(options.ChallengeRate.ToString(), options.Validators, referees.Count > 0, Pending, epochs, challenges,
            challenges.Where(c => c.Dispute != null).Select(c => c.Dispute!).ToArray(), providers);
    }
}

public sealed record EpochSecretView(long Epoch, string Commitment, string? Secret);

/// <summary>
/// One validator's part of a challenge: <c>Verdict</c> is match, <c>mismatch: …</c>, no-validator or validator-failed;
/// <c>Matched</c> is null unless a validator answered; <c>Dispute</c> is set when a mismatch went to the referee.
/// </summary>
public sealed record ChallengeView(string Id, string RequestId, long Epoch, string Asserter, string? Validator, string Verdict, bool? Matched,
    string AsserterCommitment, string? ValidatorCommitment, long Slashed, long Reward, DateTimeOffset At, DisputeView? Dispute);

/// <summary>
/// A dispute settled by the gateway's referee. <c>Kind</c>: layer, token or forfeit; <c>Step</c>/<c>Layer</c> the first
/// difference (for a token dispute the step whose output gives the logits of generated token <c>Index</c>);
/// <c>Evidence</c> the Keccak-256 of the canonical evidence served at <c>/v1/disputes/{id}/evidence</c> (null for a
/// forfeit, whose evidence hash is that of both receipts).
/// </summary>
public sealed record DisputeView(string Id, string Kind, int? Step, int? Layer, int? Index, string Verdict, string? Loser, long Slashed, string? Evidence, string Detail);

public sealed record ProviderAccountView(string Id, long Stake, long Earnings, bool Eligible);

public sealed record ChallengeReport(string ChallengeRate, int Validators, bool Referee, int Pending, EpochSecretView[] Epochs, ChallengeView[] Challenges, DisputeView[] Disputes,
    ProviderAccountView[] Providers);
