using System.Security.Cryptography;
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
/// the ledger too, so <c>cairn ledger audit</c> can re-run every draw. After a receipt was verified and settled, it is challenged iff
/// <see cref="ChallengeDraw.IsChallenged"/>; then one validator is drawn stake-weighted (<see cref="ValidatorSelection"/>)
/// among the other healthy, eligible providers of the model and re-executes the same signed request in the background.
/// Equal output commitments: the validator is paid from the validator pool and the asserter's reputation records a pass.
/// Unequal: the asserter is slashed (evidence: Keccak-256 of both receipt hashes; the validator is the winner) and its
/// reputation records a failure. There is no bisection or referee yet: a mismatch is blamed on the asserter.
/// Off (nothing runs, nothing is drawn) when <see cref="GatewayOptions.ChallengeRate"/> is zero.
/// </summary>
public sealed class ChallengeService(ProviderDirectory directory, GatewayLedger ledger, GatewayOptions options, TimeProvider time,
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
    public void Consider(string requestId, string model, ProviderEntry asserter, GenerateRequest generate, InferenceRequest request, Receipt receipt, long epoch)
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
                await Validate(requestId, model, asserter, generate, request, receipt, secret, epoch);
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
        byte[] secret, long epoch)
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
        // Each provider is its own operator until operators are registered.
        // Two are drawn: the validator, and a tie-breaker asked only if the validator disagrees with the asserter.
        var chosen = ValidatorSelection.Select(secret, receiptHash, candidates.Select(c => c.Candidate), asserterAddress, asserterAddress, 2);
        if (chosen.Count == 0)
        {
            Record(new ChallengeView(id, requestId, epoch, asserter.Id, null, "no-validator", null, receipt.OutputCommitment.ToString(), null, 0, 0, time.GetUtcNow()));
            GatewayLog.ChallengeUnvalidated(log, requestId, asserter.Id);
            return;
        }
        var validator = candidates.First(c => c.Candidate.Provider == chosen[0].Provider).Entry;
        var (answer, failure) = await Ask(validator, generate, request);
        if (failure != null)
        {
            Record(new ChallengeView(id, requestId, epoch, asserter.Id, validator.Id, "validator-failed", null, receipt.OutputCommitment.ToString(), null, 0, 0, time.GetUtcNow()));
            GatewayLog.ChallengeValidatorFailed(log, requestId, validator.Id, failure);
            return;
        }

        var validatorAddress = answer!.Provider;
        bool matched = answer.OutputCommitment == receipt.OutputCommitment;
        long reward = 0, slashed = 0;
        string verdict;
        if (matched)
        {
            verdict = "match";
            reward = ledger.RewardValidator($"challenge/{id}/reward", validatorAddress, options.ValidatorReward, answer.Hash());
            directory.Reputation.RecordChallenge(asserter.Id, true);
        }
        else
        {
            // Asserter and validator disagree: one of them is wrong, and the engine is deterministic, so an honest
            // third provider's re-execution equals the honest side's bit for bit. Whoever it contradicts is slashed; if
            // it agrees with neither (or there is none), nobody is (a bisection dispute with the referee comes later).
            Receipt? tie = null;
            ProviderEntry? breaker = chosen.Count > 1 ? candidates.First(c => c.Candidate.Provider == chosen[1].Provider).Entry : null;
            if (breaker != null) (tie, _) = await Ask(breaker, generate, request);
            Span<byte> both = stackalloc byte[2 * Hash256.Size];
            receiptHash.CopyTo(both);
            answer.Hash().CopyTo(both[Hash256.Size..]);
            var evidence = Keccak256.Hash(both);
            if (tie != null && tie.OutputCommitment == answer.OutputCommitment)
            {
                verdict = "mismatch: asserter wrong";
                slashed = ledger.Slash($"challenge/{id}/slash", asserterAddress, Slash, evidence, validatorAddress);
                directory.Reputation.RecordChallenge(asserter.Id, false);
            }
            else if (tie != null && tie.OutputCommitment == receipt.OutputCommitment)
            {
                verdict = "mismatch: validator wrong";
                slashed = ledger.Slash($"challenge/{id}/slash-validator", validatorAddress, Slash, evidence, asserterAddress);
                directory.Reputation.RecordChallenge(validator.Id, false);
            }
            else verdict = "mismatch: unresolved";
        }
        Record(new ChallengeView(id, requestId, epoch, asserter.Id, validator.Id, verdict, matched,
            receipt.OutputCommitment.ToString(), answer.OutputCommitment.ToString(), slashed, reward, time.GetUtcNow()));
        GatewayLog.ChallengeVerdict(log, requestId, asserter.Id, validator.Id, verdict, slashed, reward);
    }

    /// <summary>Re-executes the same signed request on <paramref name="validator"/>; its receipt or why there is none.</summary>
    private static async Task<(Receipt? Answer, string? Failure)> Ask(ProviderEntry validator, GenerateRequest generate, InferenceRequest request)
    {
        validator.Begin();
        try
        {
            using var call = validator.Client.Generate(generate, deadline: DateTime.UtcNow.Add(ValidationTimeout));
            DoneEvent? done = null;
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                if (call.ResponseStream.Current.EventCase != GenerateEvent.EventOneofCase.Done) continue;
                done = call.ResponseStream.Current.Done;
                break;
            }
            if (done is null) return (null, "the validator ended without a receipt");
            var answer = ReceiptCheck.Check(done.Receipt.Span, request, validator.Id, out string? refused);
            return (answer, refused is null ? null : "validator: " + refused);
        }
        catch (Grpc.Core.RpcException e)
        {
            return (null, $"the validator failed: {e.Status.Detail}");
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
        return new ChallengeReport(options.ChallengeRate.ToString(), Pending, epochs, challenges, providers);
    }
}

public sealed record EpochSecretView(long Epoch, string Commitment, string? Secret);

/// <summary>One challenge: <c>Verdict</c> is match, mismatch, no-validator or validator-failed; <c>Matched</c> is null unless a validator answered.</summary>
public sealed record ChallengeView(string Id, string RequestId, long Epoch, string Asserter, string? Validator, string Verdict, bool? Matched,
    string AsserterCommitment, string? ValidatorCommitment, long Slashed, long Reward, DateTimeOffset At);

public sealed record ProviderAccountView(string Id, long Stake, long Earnings, bool Eligible);

public sealed record ChallengeReport(string ChallengeRate, int Pending, EpochSecretView[] Epochs, ChallengeView[] Challenges, ProviderAccountView[] Providers);
