using System.CommandLine;
using System.Security.Cryptography;
using Cairn.Engine.Adapters;
using Cairn.Engine.Inference;
using Cairn.Engine.Models;
using Cairn.Engine.Verification;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Encoding;
using Cairn.Protocol.Messages;
using Cairn.Protocol.Sampling;
using Cairn.Protocol.Validation;

namespace Cairn.Cli.Commands;

/// <summary>
/// <c>cairn verify EVIDENCE --model FILE</c>: re-checks a stored dispute verdict independently — the evidence's
/// signatures, traces and first difference (<see cref="DisputeEvidence.Check"/>), then the disputed layer recomputed by
/// this machine's referee; or, for a sampling dispute (<see cref="TokenDisputeEvidence"/>), the continuation the head
/// and the restored sampler give. Exit 0: the verdict holds; 1: it does not; 2: bad arguments or files.
/// Also the glue that builds evidence from two parties' traces (<see cref="Build"/>), since only this project sees both
/// the engine and the protocol.
/// </summary>
public static class VerifyCommand
{
    public static Command Create()
    {
        var evidence = new Argument<FileInfo>("EVIDENCE") { Description = "A DisputeEvidence file (canonical encoding)" };
        var model = new Option<FileInfo>("--model", "-m") { Description = "The GGUF model the request names", Required = true };
        var threads = new Option<int>("--threads", "-t") { Description = "Threads (never changes a bit)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var adapterFiles = new Option<FileInfo[]>("--adapter") { Description = "A LoRA adapter GGUF the request names (repeatable; matched by SHA-256)", AllowMultipleArgumentsPerToken = false };
        var command = new Command("verify", "Re-check a dispute's verdict by recomputing the disputed layer") { evidence, model, threads, adapterFiles };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var file = parse.GetValue(evidence)!;
            var modelFile = parse.GetValue(model)!;
            byte[] bytes = File.ReadAllBytes(file.FullName);
            if (StageDisputeEvidence.IsStageDispute(bytes)) return VerifyStage(file, bytes, modelFile, Math.Max(1, parse.GetValue(threads)));
            bool token = TokenDisputeEvidence.IsTokenDispute(bytes);
            DisputeEvidence? layer = null;
            TokenDisputeEvidence? sampling = null;
            try
            {
                if (token) sampling = TokenDisputeEvidence.Decode(bytes);
                else layer = DisputeEvidence.Decode(bytes);
            }
            catch (CanonicalFormatException x) { throw new ArgumentException($"{file.Name}: {x.Message}"); }
            var request = layer?.Request ?? sampling!.Request;
            byte[] fileHash;
            using (var stream = File.OpenRead(modelFile.FullName)) fileHash = SHA256.HashData(stream);
            if (new Hash256(fileHash) != request.ModelHash)
            {
                Console.Error.WriteLine($"cairn: verify: {modelFile.Name} hashes to {Convert.ToHexStringLower(fileHash)}, the request names model {request.ModelHash}");
                return 2;
            }
            var loaded = (parse.GetValue(adapterFiles) ?? []).Select(f => LoraAdapter.Load(f.FullName)).ToArray();
            var adapters = new LoraAdapter[request.AdapterHashes.Count];
            for (int i = 0; i < adapters.Length; i++)
            {
                var hash = request.AdapterHashes[i];
                var found = loaded.FirstOrDefault(a => new Hash256(a.Hash) == hash);
                if (found is null)
                {
                    Console.Error.WriteLine($"cairn: verify: the request names adapter {hash}; give its file with --adapter");
                    return 2;
                }
                adapters[i] = found;
            }
            var transformer = new Transformer(Model.Load(modelFile.FullName), Math.Max(1, parse.GetValue(threads)));
            ValidationResult result;
            if (sampling is { } e2)
            {
                (result, var ruling) = Cairn.Node.Gateway.DisputeReferee.RecheckToken(transformer, e2, adapters);
                Console.WriteLine($"evidence {e2.Hash()} (sampling dispute): request {e2.Request.Hash()}, asserter {e2.AsserterReceipt.Provider}, validator {e2.ValidatorReceipt.Provider}");
                Console.WriteLine($"disputed generated index {e2.Index}: asserter {Claim(e2.AsserterClaim)}, validator {Claim(e2.ValidatorClaim)}, expected {Claim(e2.Expected)}; verdict {e2.Verdict}");
                if (ruling is not null) Console.WriteLine($"referee: {Claim(ruling.Token)} ({ruling.Reason})");
            }
            else
            {
                var e = layer!;
                (result, var referee) = Recheck(transformer, e, adapters);
                Console.WriteLine($"evidence {e.Hash()}: request {e.Request.Hash()}, asserter {e.AsserterReceipt.Provider}, validator {e.ValidatorReceipt.Provider}");
                Console.WriteLine($"disputed step {e.Step}, layer {e.Layer}; verdict {e.Verdict}");
                if (referee is not null)
                    Console.WriteLine($"recomputed {Convert.ToHexStringLower(referee.Hash)} (1 layer × {referee.Positions} positions, {referee.Elapsed.TotalMilliseconds:F1} ms)");
            }
            if (!result.IsValid)
            {
                Console.WriteLine($"verdict does NOT hold: {result}");
                return 1;
            }
            Console.WriteLine("verdict holds");
            return 0;
        }));
        return command;
    }

    /// <summary>A pipeline stage's dispute (<see cref="StageDisputeEvidence"/>): its checks, then the layer recomputed here.</summary>
    private static int VerifyStage(FileInfo file, byte[] bytes, FileInfo modelFile, int threads)
    {
        StageDisputeEvidence e;
        try { e = StageDisputeEvidence.Decode(bytes); }
        catch (CanonicalFormatException x) { throw new ArgumentException($"{file.Name}: {x.Message}"); }
        byte[] fileHash;
        using (var stream = File.OpenRead(modelFile.FullName)) fileHash = SHA256.HashData(stream);
        if (new Hash256(fileHash) != e.Request.ModelHash)
        {
            Console.Error.WriteLine($"cairn: verify: {modelFile.Name} hashes to {Convert.ToHexStringLower(fileHash)}, the request names model {e.Request.ModelHash}");
            return 2;
        }
        var transformer = new Transformer(Model.Load(modelFile.FullName), threads);
        var (result, referee) = RecheckStage(transformer, e);
        Console.WriteLine($"evidence {e.Hash()} (pipeline stage dispute): request {e.Request.Hash()}, pipeline receipt by {e.Receipt.Provider}, {e.Parts.Count} stage parts");
        if (e.AccusedIndex() is int k and >= 0)
            Console.WriteLine(e.Kind == StageDisputeKind.Layer && e.Step < e.LayerHashes.Count
                ? $"disputed step {e.Step}, layer {e.Layer}: stage {k} (layers {e.Parts[k].FirstLayer}..{e.Parts[k].EndLayer - 1}) by {e.Parts[k].Provider} signed {e.LayerHashes[e.Step][e.Layer]}"
                : $"disputed generated index {e.Index}: the last stage {k} (layers {e.Parts[k].FirstLayer}..{e.Parts[k].EndLayer - 1}) by {e.Parts[k].Provider}");
        if (referee is not null) Console.WriteLine($"recomputed {Convert.ToHexStringLower(referee.Hash)} (1 layer × {referee.Positions} positions)");
        if (!result.IsValid)
        {
            Console.WriteLine($"verdict does NOT hold: {result}");
            return 1;
        }
        Console.WriteLine("verdict holds: the stage is at fault");
        return 0;
    }

    /// <summary>The stage evidence's own checks, then the referee rerun on this machine; valid iff the accused stage is at fault.</summary>
    public static (ValidationResult Result, RefereeResult? Referee) RecheckStage(Transformer transformer, StageDisputeEvidence e)
    {
        var check = e.Check();
        if (!check.IsValid) return (check, null);
        if (e.Kind == StageDisputeKind.Token) return (RecheckStageToken(transformer, e), null);
        return RerunLayer(transformer, new RefereeCase
        {
            Tokens = e.FedTokens(),
            Step = e.Step,
            Layer = e.Layer,
            Inputs = e.Layer == 0 ? null : e.Inputs.ToArray(),
            AgreedInputHashes = e.Layer == 0 ? null : e.InputHashes().Select(h => h.ToArray()).ToArray(),
        }, e.RecomputedHash, e.InputsHash);
    }

    /// <summary>A last stage's sampling fault: the continuation this machine's referee gives must be the evidence's expected one.</summary>
    private static ValidationResult RecheckStageToken(Transformer transformer, StageDisputeEvidence e)
    {
        TokenRuling ruling;
        try
        {
            ruling = TokenReferee.Decide(transformer, Cairn.Node.Gateway.DisputeReferee.Case(transformer, e.Request, e.Stops, e.AgreedTokens()) with
            {
                FinalHidden = e.Inputs.Count > 0 ? e.Inputs[0] : null,
                AgreedFinalHash = e.Inputs.Count > 0 ? e.LayerHashes[e.Step][e.Layer].ToArray() : null,
            });
        }
        catch (Exception x) when (x is RefereeException or ArgumentException)
        {
            return ValidationResult.Fail(DisputeEvidence.EvidenceMismatch, $"the referee refused the case: {x.Message}");
        }
        Console.WriteLine($"disputed generated index {e.Index}: the last stage signed {Claim(e.Claim)}, expected {Claim(e.Expected)}; referee: {Claim(ruling.Token)} ({ruling.Reason})");
        return ruling.Token == e.Expected
            ? ValidationResult.Ok
            : ValidationResult.Fail(DisputeEvidence.EvidenceMismatch, $"the referee gives {Claim(ruling.Token)}, the evidence says {Claim(e.Expected)}");
    }

    private static string Claim(int token) => token == TokenDisputeEvidence.End ? "end" : $"token {token}";

    /// <summary>The evidence's own checks, then the referee rerun on this machine; valid iff the verdict holds.</summary>
    public static (ValidationResult Result, RefereeResult? Referee) Recheck(Transformer transformer, DisputeEvidence e, IReadOnlyList<LoraAdapter>? adapters = null)
    {
        var check = e.Check();
        if (!check.IsValid) return (check, null);
        return RerunLayer(transformer, new RefereeCase
        {
            Tokens = e.FedTokens(),
            Step = e.Step,
            Layer = e.Layer,
            Inputs = e.Layer == 0 ? null : e.Inputs.ToArray(),
            AgreedInputHashes = e.Layer == 0 ? null : e.AgreedInputHashes().Select(h => h.ToArray()).ToArray(),
            Adapters = adapters ?? [],
        }, e.RecomputedHash, e.InputsHash);
    }

    /// <summary>The one-layer referee on this machine; valid iff it recomputes the evidence's layer hash from the evidence's inputs.</summary>
    private static (ValidationResult Result, RefereeResult? Referee) RerunLayer(Transformer transformer, RefereeCase @case, Hash256 recomputedHash, Hash256 inputsHash)
    {
        RefereeResult referee;
        try
        {
            referee = Referee.Recompute(transformer, @case);
        }
        catch (Exception x) when (x is RefereeException or ArgumentException)
        {
            return (ValidationResult.Fail(DisputeEvidence.EvidenceMismatch, $"the referee refused the case: {x.Message}"), null);
        }
        if (new Hash256(referee.Hash) != recomputedHash)
            return (ValidationResult.Fail(DisputeEvidence.EvidenceMismatch, $"the layer recomputes to {Convert.ToHexStringLower(referee.Hash)}, the evidence says {recomputedHash}"), referee);
        if (new Hash256(referee.InputsHash) != inputsHash)
            return (ValidationResult.Fail(DisputeEvidence.EvidenceMismatch, "the referee's inputs hash differs from the evidence's"), referee);
        return (ValidationResult.Ok, referee);
    }

    /// <summary>
    /// Settles a dispute between two traces of one request: bisection to the first (step, layer) that differs, the
    /// referee on the inputs <paramref name="supplier"/> hands over (a trace that captured layer − 1; either party's, the
    /// inputs are checked against the hashes both committed), and the evidence with its verdict.
    /// </summary>
    public static DisputeEvidence Build(Transformer transformer, InferenceRequest request,
        Receipt asserterReceipt, int[] asserterTokens, ExportedTrace asserterTrace,
        Receipt validatorReceipt, int[] validatorTokens, ExportedTrace validatorTrace,
        Func<int, ExportedTrace> supplier)
    {
        var a = ToCommitment(asserterTrace);
        var v = ToCommitment(validatorTrace);
        var point = Bisection.FirstDifference(a, v) ?? throw new InvalidOperationException("the traces are equal: there is no dispute");
        int[] fed = [.. request.PromptTokens, .. asserterTokens];
        var inputs = supplier(point.Layer - 1);
        var c = TraceExport.Case(inputs, fed, point.Step, point.Layer);
        var referee = Referee.Recompute(transformer, c);
        var recomputed = new Hash256(referee.Hash);
        IReadOnlyList<Hash256> StepLayers(TraceCommitment t) => point.Step < t.Steps ? t.LayerHashes(point.Step)! : [];
        var aLayers = StepLayers(a);
        var vLayers = StepLayers(v);
        return new DisputeEvidence
        {
            Request = request,
            AsserterReceipt = asserterReceipt,
            ValidatorReceipt = validatorReceipt,
            Step = point.Step,
            Layer = point.Layer,
            AsserterTokens = asserterTokens,
            ValidatorTokens = validatorTokens,
            AsserterStepRoots = a.StepRoots,
            ValidatorStepRoots = v.StepRoots,
            AgreedLayerHashes = Enumerable.Range(0, point.Step).Select(s => a.LayerHashes(s)!).ToArray(),
            AsserterStepLayers = aLayers,
            ValidatorStepLayers = vLayers,
            Inputs = c.Inputs ?? [],
            InputsHash = new Hash256(referee.InputsHash),
            RecomputedHash = recomputed,
            Verdict = DisputeEvidence.Decide(recomputed, point.Layer < aLayers.Count ? aLayers[point.Layer] : null, point.Layer < vLayers.Count ? vLayers[point.Layer] : null),
        };
    }

    public static TraceCommitment ToCommitment(ExportedTrace e) =>
        TraceCommitment.FromLayerHashes(e.LayerHashes.Select(step => (IReadOnlyList<Hash256>)step.Select(h => new Hash256(h)).ToArray()).ToArray());
}
