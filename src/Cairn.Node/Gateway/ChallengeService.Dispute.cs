using System.Buffers.Binary;
using Cairn.Engine.Adapters;
using Cairn.Engine.Inference;
using Cairn.Node.Rpc;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Messages;
using Cairn.Protocol.Sampling;

namespace Cairn.Node.Gateway;

/// <summary>Disputes: both sides reveal their traces (the <c>Trace</c> RPC), the referee settles, the loser is slashed.</summary>
public sealed partial class ChallengeService
{
    /// <summary>How long a side may take to reveal its trace (or hand over a layer's outputs) before it forfeits.</summary>
    public static readonly TimeSpan TraceTimeout = TimeSpan.FromSeconds(60);

    private sealed record Side(ProviderEntry Entry, Receipt Receipt, int[] Tokens);

    /// <summary>The folder canonical dispute evidence is written to, one <c>&lt;id&gt;.evidence</c> file per verdict.</summary>
    public string DisputeDirectory => Path.Combine(options.DataDirectory, "disputes");

    /// <summary>The stored evidence of a dispute, or null (ids are <c>&lt;challenge id&gt;-&lt;validator index&gt;</c>).</summary>
    public byte[]? Evidence(string disputeId)
    {
        if (!DisputeIds().IsMatch(disputeId)) return null;
        string path = Path.Combine(DisputeDirectory, disputeId + ".evidence");
        return File.Exists(path) ? File.ReadAllBytes(path) : null;
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[0-9a-f]{64}-[0-9]{1,3}$")]
    private static partial System.Text.RegularExpressions.Regex DisputeIds();

    private async Task<DisputeView> Dispute(string disputeId, string requestId, Transformer referee, LoraAdapter[] adapters, GenerateRequest generate, InferenceRequest request, Side asserter, Side validator)
    {
        int dim = referee.Config.Dim;
        var revealed = await Task.WhenAll(FetchTrace(asserter.Entry, generate.Request, asserter.Tokens, -1, 0, dim), FetchTrace(validator.Entry, generate.Request, validator.Tokens, -1, 0, dim));
        var a = revealed[0].Hashes is { } ah ? new DisputeSide(asserter.Receipt, asserter.Tokens, ah) : null;
        var v = revealed[1].Hashes is { } vh ? new DisputeSide(validator.Receipt, validator.Tokens, vh) : null;
        string? aForfeit = a is null ? revealed[0].Failure : DisputeReferee.Binding(a);
        string? vForfeit = v is null ? revealed[1].Failure : DisputeReferee.Binding(v);
        if (aForfeit != null || vForfeit != null) return Forfeit(disputeId, requestId, asserter, validator, aForfeit, vForfeit);

        var (ruling, unresolved) = await DisputeReferee.SettleAsync(referee, adapters, request, [.. generate.Stop], a!, v!, async (fromAsserter, layer, steps) =>
        {
            var side = fromAsserter ? asserter : validator;
            return (await FetchTrace(side.Entry, generate.Request, side.Tokens, layer, steps, dim)).Captured;
        });
        if (ruling is null)
        {
            GatewayLog.DisputeSettled(log, disputeId, requestId, "no", "mismatch: unresolved", unresolved!);
            return new DisputeView(disputeId, "unresolved", null, null, null, "mismatch: unresolved", null, 0, null, unresolved!);
        }
        Directory.CreateDirectory(DisputeDirectory);
        File.WriteAllBytes(Path.Combine(DisputeDirectory, disputeId + ".evidence"), ruling.Evidence);
        var (verdict, loser, slashed) = Settle(disputeId, asserter, validator, ruling.Verdict, ruling.EvidenceHash);
        GatewayLog.DisputeSettled(log, disputeId, requestId, ruling.Kind, verdict, $"{ruling.Detail}; evidence {ruling.EvidenceHash}");
        return new DisputeView(disputeId, ruling.Kind, ruling.Step, ruling.Layer, ruling.Index, verdict, loser, slashed, ruling.EvidenceHash.ToString(), ruling.Detail);
    }

    /// <summary>A side that did not reveal a trace bound to its receipt loses without a referee (both, if both failed).</summary>
    private DisputeView Forfeit(string disputeId, string requestId, Side asserter, Side validator, string? asserterFailure, string? validatorFailure)
    {
        var verdict = asserterFailure != null && validatorFailure != null ? Verdict.NeitherRight : asserterFailure != null ? Verdict.ValidatorRight : Verdict.AsserterRight;
        var evidence = PairHash(asserter.Receipt, validator.Receipt);
        var (text, loser, slashed) = Settle(disputeId, asserter, validator, verdict, evidence);
        string detail = string.Join("; ", new[] { asserterFailure is null ? null : $"the asserter forfeits: {asserterFailure}", validatorFailure is null ? null : $"the validator forfeits: {validatorFailure}" }.OfType<string>());
        GatewayLog.DisputeSettled(log, disputeId, requestId, "forfeit", text, detail);
        return new DisputeView(disputeId, "forfeit", null, null, null, text, loser, slashed, null, detail);
    }

    /// <summary>Slashes the loser(s) S with the evidence hash, half to the winner, and records their failed challenge.</summary>
    private (string Verdict, string? Loser, long Slashed) Settle(string disputeId, Side asserter, Side validator, Verdict verdict, Hash256 evidence)
    {
        long Lose(Side loser, Side? winner, string role)
        {
            directory.Reputation.RecordChallenge(loser.Entry.Id, false);
            return ledger.Slash($"challenge/{disputeId}/slash-{role}", loser.Receipt.Provider, Slash, evidence, winner?.Receipt.Provider);
        }
        return verdict switch
        {
            Verdict.ValidatorRight => ("mismatch: asserter wrong", asserter.Entry.Id, Lose(asserter, validator, "asserter")),
            Verdict.AsserterRight => ("mismatch: validator wrong", validator.Entry.Id, Lose(validator, asserter, "validator")),
            _ => ("mismatch: both wrong", "both", Lose(asserter, null, "asserter") + Lose(validator, null, "validator")),
        };
    }

    /// <summary>
    /// Asks a side for its trace of the request (and <paramref name="captureLayer"/>'s outputs at steps below
    /// <paramref name="captureSteps"/>): its layer hashes [step][layer] and captured rows, or why there are none.
    /// </summary>
    private static async Task<(Hash256[][]? Hashes, float[][]? Captured, string? Failure)> FetchTrace(ProviderEntry side, Google.Protobuf.ByteString request,
        int[] tokens, int captureLayer, int captureSteps, int dim)
    {
        if (tokens.Length == 0) return (null, null, "it streamed no tokens");
        var ask = new TraceRequest { Request = request, CaptureLayer = captureLayer, CaptureSteps = captureSteps };
        ask.Generated.AddRange(tokens);
        TraceReply reply;
        try
        {
            reply = await side.Client.TraceAsync(ask, deadline: DateTime.UtcNow.Add(TraceTimeout));
        }
        catch (Grpc.Core.RpcException e)
        {
            return (null, null, $"no trace ({e.StatusCode}: {e.Status.Detail})");
        }
        int layers = reply.Layers, steps = reply.StepRoots.Count;
        if (layers < 1 || layers > DisputeEvidence.MaxLayers || steps < 1 || reply.LayerHashes.Count != (long)steps * layers || reply.LayerHashes.Any(h => h.Length != Hash256.Size))
            return (null, null, $"a malformed trace ({steps} steps, {layers} layers, {reply.LayerHashes.Count} hashes)");
        var hashes = new Hash256[steps][];
        for (int s = 0; s < steps; s++)
        {
            hashes[s] = new Hash256[layers];
            for (int l = 0; l < layers; l++) hashes[s][l] = new Hash256(reply.LayerHashes[s * layers + l].Span);
        }
        float[][]? captured = null;
        if (captureLayer >= 0)
        {
            if (reply.Captured.Count != captureSteps || reply.Captured.Any(r => r.Length != 4 * dim)) return (hashes, null, $"{reply.Captured.Count} captured rows, not {captureSteps} of {dim} floats");
            captured = reply.Captured.Select(r =>
            {
                var row = new float[dim];
                for (int i = 0; i < dim; i++) row[i] = BinaryPrimitives.ReadSingleLittleEndian(r.Span.Slice(4 * i, 4));
                return row;
            }).ToArray();
        }
        return (hashes, captured, null);
    }
}
