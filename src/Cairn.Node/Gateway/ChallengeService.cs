using System.Security.Cryptography;
using Cairn.Ledger;
using Cairn.Node.Rpc;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Messages;
using Cairn.Protocol.Sampling;

namespace Cairn.Node.Gateway;

/// <summary>
/// Proof of Sampling in the gateway (DESIGN.md §4, docs/verification.md "In the network"). Each ledger epoch has a fresh
/// random secret whose Keccak-256 commitment is written to the ledger when the epoch opens and whose value is revealed in
/// the ledger (and shown at <c>GET /v1/challenges</c>) when it closes; each draw that challenges a receipt is recorded in
/// the ledger too, so <c>cairn ledger audit</c> can re-run every draw. After a receipt was verified and settled, it is
/// challenged iff <see cref="ChallengeDraw.IsChallenged"/> with the secret of the epoch it was settled in; then n validators
/// (<see cref="GatewayOptions.Validators"/>) are drawn stake-weighted (<see cref="ValidatorSelection"/>) among the other
/// healthy, eligible providers of the model and re-execute the same signed request in the background. All equal: the
/// challenge is paid from the validator pool in one ledger entry (R_V / n to each validator, R_A to the asserter, the
/// client's discount) and the asserter's reputation records a pass. Unequal: a dispute (ChallengeService.Dispute.cs)
/// refereed on the gateway's own copy of the model (<see cref="RefereeModels"/>), or, without one, a tie-breaker re-execution.
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
    /// <summary>Secrets of the open epoch and the last closed one (a receipt settled just before a close is drawn with its epoch's secret).</summary>
    private readonly Dictionary<long, byte[]> _secrets = [];
    private int _pending;

    public bool Enabled => options.ChallengeRate.PartsPerMillion > 0;
    public long Slash => options.Slash ?? ledger.Book.Options.MinimumStake;
    /// <summary>Challenges drawn whose validation has not finished yet.</summary>
    public int Pending => Volatile.Read(ref _pending);

    /// <summary>Where epoch N's secret is kept until it is revealed, so that a restarted gateway can still reveal it.</summary>
    private string SecretPath(long epoch) => Path.Combine(options.DataDirectory, "epoch-secrets", $"{epoch}.secret");

    /// <summary>Opens the secret of the ledger's open epoch; called once at start-up.</summary>
    public void Start()
    {
        if (!Enabled) return;
        lock (_gate) OpenEpoch(ledger.OpenEpoch);
    }

    /// <summary>The ledger closed <paramref name="closed"/>: reveal its secret in the ledger and commit to the next one.</summary>
    public void EpochClosed(long closed)
    {
        if (!Enabled) return;
        lock (_gate)
        {
            if (_secrets.TryGetValue(closed, out byte[]? secret))
            {
                ledger.RevealEpochSecret(closed, new Hash256(secret));
                int i = _epochs.FindIndex(e => e.Epoch == closed);
                _epochs[i] = _epochs[i] with { Secret = Convert.ToHexStringLower(secret) };
                GatewayLog.EpochSecretRevealed(log, closed, Convert.ToHexStringLower(secret));
                File.Delete(SecretPath(closed));
            }
            foreach (long old in _secrets.Keys.Where(e => e < closed).ToList()) _secrets.Remove(old);
            OpenEpoch(closed + 1);
        }
    }

    /// <summary>
    /// Commits to epoch <paramref name="epoch"/>'s secret in the ledger (entry <c>epoch/N/secret</c>) before any of its
    /// draws. The secret is written to the data folder first, so a gateway restarted within the epoch reuses it (the
    /// ledger refuses a second, different commitment for the same epoch).
    /// </summary>
    private void OpenEpoch(long epoch)
    {
        string path = SecretPath(epoch);
        byte[] secret;
        if (File.Exists(path) && File.ReadAllBytes(path) is { Length: Hash256.Size } kept) secret = kept;
        else
        {
            secret = RandomNumberGenerator.GetBytes(Hash256.Size);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, secret);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        var commitment = ChallengeDraw.Commit(secret);
        ledger.CommitEpochSecret(epoch, commitment, options.ChallengeRate);
        _secrets[epoch] = secret;
        _epochs.Add(new EpochSecretView(epoch, commitment.ToString(), null));
        GatewayLog.EpochSecretCommitted(log, epoch, commitment.ToString());
    }

    /// <summary>
    /// Draws whether <paramref name="receipt"/> (verified and settled in <paramref name="epoch"/>) is challenged, with
    /// that epoch's secret; if so, records the draw in the ledger, starts its validation in the background and returns at
    /// once, so the client is never delayed.
    /// </summary>
    public void Consider(string requestId, string model, ProviderEntry asserter, GenerateRequest generate, InferenceRequest request, Receipt receipt, int[] tokens,
        long epoch, Address client)
    {
        if (!Enabled) return;
        byte[]? secret;
        lock (_gate) _secrets.TryGetValue(epoch, out secret);
        if (secret is null)
        {
            log.LogWarning("receipt of {RequestId} was settled in epoch {Epoch}, whose secret this gateway no longer holds; it is not drawn", requestId, epoch);
            return;
        }
        var receiptHash = receipt.Hash();
        if (!ChallengeDraw.IsChallenged(secret, receiptHash, options.ChallengeRate)) return;
        ledger.RecordChallengeDrawn(receiptHash, epoch, receipt.Provider);
        Interlocked.Increment(ref _pending);
        _ = Task.Run(async () =>
        {
            try
            {
                await Validate(requestId, model, asserter, generate, request, receipt, tokens, secret, epoch, client);
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
        int[] asserterTokens, byte[] secret, long epoch, Address client)
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
        // A request with adapters is refereed only when the gateway holds the model and every adapter (--adapter);
        // otherwise by re-execution on a provider that serves them (validators come from that set: Serves checks them).
        var referee = referees.Find(request.ModelHash, request.AdapterHashes);
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
        var outcomes = new List<(ProviderEntry Validator, Receipt Answer, string Verdict, long Slashed, DisputeView? Dispute)>();
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
            if (answer!.OutputCommitment == receipt.OutputCommitment)
            {
                directory.Reputation.RecordChallenge(asserter.Id, true);
                outcomes.Add((validator, answer, "match", 0, null));
                continue;
            }
            // They disagree: the referee settles it on the gateway's own copy of the model, or without one a tie-breaker.
            var dispute = referee != null
                ? await Dispute($"{id}-{k}", requestId, referee.Value.Transformer, referee.Value.Adapters, generate, request, asserterSide, new Side(validator, answer, tokens!))
                : await TieBreak(id, k, breaker, validation, request, asserter, receipt, validator, answer);
            outcomes.Add((validator, answer, dispute.Verdict, dispute.Slashed, dispute));
        }

        // Matching validators are paid R_V / n each from the validator pool, in one ledger entry with R_A for the asserter
        // and the client's discount when every validator reproduced the answer (DESIGN.md §4.3). Nobody is paid for a
        // receipt a dispute found wrong.
        var matched = outcomes.Where(o => o.Verdict == "match").ToList();
        bool asserterLost = outcomes.Any(o => o.Dispute?.Loser == asserter.Id);
        var paid = new ChallengePayment(0, 0, matched.Count, 0);
        if (matched.Count > 0 && !asserterLost)
        {
            bool clean = matched.Count == n;
            paid = ledger.RewardChallenge(receiptHash, asserterAddress, [.. matched.Select(m => m.Answer.Provider)], client,
                new ChallengePayment(clean ? options.AsserterReward : 0, options.ValidatorReward / n, matched.Count, clean ? options.ClientDiscount : 0));
        }
        foreach (var (validator, answer, verdict, slashed, dispute) in outcomes)
        {
            long reward = verdict == "match" ? paid.PerValidatorReward : 0;
            Record(new ChallengeView(id, requestId, epoch, asserter.Id, validator.Id, verdict, verdict == "match",
                receipt.OutputCommitment.ToString(), answer.OutputCommitment.ToString(), slashed, reward, time.GetUtcNow(), dispute)
            {
                AsserterReward = verdict == "match" ? paid.AsserterReward : 0,
                ClientDiscount = verdict == "match" ? paid.ClientDiscount : 0,
            });
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
        string missing = request.AdapterHashes.Count == 0 ? $"no model {request.ModelHash}" : $"no model {request.ModelHash} with adapter(s) {string.Join(", ", request.AdapterHashes)}";
        string detail = $"the gateway has {missing} to referee with (cairn gateway --model, --adapter): settled by a re-execution on {breaker?.Id ?? "nobody (no other provider)"}";
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
            // A signed receipt whose count differs from what was streamed is not a failure to answer but a commitment the
            // validator cannot back: it goes to the dispute like any other disagreement, where such a side forfeits.
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

    /// <summary>Raised after each validator's verdict is recorded (the metrics count verdicts, disputes and slashes).</summary>
    public event Action<ChallengeView>? Recorded;

    private void Record(ChallengeView c)
    {
        lock (_gate) _challenges.Add(c);
        Recorded?.Invoke(c);
    }

    /// <summary>What <c>GET /v1/challenges</c> shows: the draws' epochs and secrets, every challenge, and each provider's stake and earnings.</summary>
    public ChallengeReport Report()
    {
        // Pending is read first: a report that says 0 then lists every challenge drawn so far, and the stakes read after
        // the list include no slash of a challenge missing from it (reading it last let a challenge finish in between).
        int pending = Pending;
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
        return new ChallengeReport(options.ChallengeRate.ToString(), options.Validators, referees.Count > 0, pending, epochs, challenges,
            challenges.Where(c => c.Dispute != null).Select(c => c.Dispute!).ToArray(), providers);
    }
}

public sealed record EpochSecretView(long Epoch, string Commitment, string? Secret);

/// <summary>
/// One validator's part of a challenge: <c>Verdict</c> is match, <c>mismatch: …</c>, no-validator or validator-failed;
/// <c>Matched</c> is null unless a validator answered; <c>Dispute</c> is set when a mismatch went to the referee.
/// </summary>
public sealed record ChallengeView(string Id, string RequestId, long Epoch, string Asserter, string? Validator, string Verdict, bool? Matched,
    string AsserterCommitment, string? ValidatorCommitment, long Slashed, long Reward, DateTimeOffset At, DisputeView? Dispute)
{
    /// <summary>R_A paid to the asserter for this matched challenge (0 unless every validator matched).</summary>
    public long AsserterReward { get; init; }
    /// <summary>The discount paid back to the client for this matched challenge.</summary>
    public long ClientDiscount { get; init; }
}

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
