using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Cairn.Ledger;
using Cairn.Ledger.Economics;
using Cairn.Node.Gateway.OpenAi;
using Cairn.Node.Provider;
using Cairn.Node.Rpc;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Messages;
using Grpc.Core;

namespace Cairn.Node.Gateway.Pipeline;

/// <summary>
/// The pipeline route of <c>/v1/completions</c> and <c>/v1/chat/completions</c>: when no provider serves the whole model
/// but stages cover all its layers, the gateway chains them for the request (<see cref="PipelineRun"/>), streams the
/// tokens as usual, fails over to other stages mid-generation, and signs the receipt on behalf of the pipeline: its
/// output commitment and trace root are assembled from the layer hashes every stage reported (docs/pipeline.md).
/// </summary>
public sealed class PipelineHandler(ProviderDirectory directory, GatewayState gateway, GatewayLedger ledger, ReceiptStore receipts, GatewayOptions options,
    Dashboard.PipelinePlan plan, Dashboard.GatewayMetrics metrics, PlannedPipeline planned, TimeProvider time, ILogger<PipelineHandler> log,
    ChallengeService challenges)
{
    public async Task Handle(HttpContext ctx, CompletionRequest req, Address client)
    {
        var excluded = new HashSet<string>(StringComparer.Ordinal);
        // Flexible stages only: the gateway's planner assigns the ranges (and may re-plan before this request starts).
        using var lease = PlannedPipeline.Applies(directory, req.Model) ? await planned.Acquire(req.Model, excluded, ctx.RequestAborted) : null;
        var chain = lease?.Chain ?? PipelineChain.Choose(directory, req.Model, excluded)
            ?? throw OpenAiError.Unavailable($"no healthy set of stages covers every layer of '{req.Model}' right now");
        var model = chain[0].Model;

        TokenizeReply tokens;
        var tokenize = new TokenizeRequest { ModelHash = model.Hash, Prompt = req.Prompt ?? "" };
        if (req.Messages != null) tokenize.Messages.AddRange(req.Messages.Select(m => new Rpc.ChatMessage { Role = m.Role, Content = m.Content }));
        try
        {
            tokens = await chain[0].Provider.Client.TokenizeAsync(tokenize, deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: ctx.RequestAborted);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.InvalidArgument or StatusCode.FailedPrecondition)
        {
            throw OpenAiError.BadRequest(e.Status.Detail, req.IsChat ? "messages" : "prompt");
        }
        catch (RpcException e) when (!ctx.RequestAborted.IsCancellationRequested)
        {
            directory.MarkFailed(chain[0].Provider);
            throw OpenAiError.Upstream($"the first stage failed: {e.Status.Detail}");
        }

        int promptTokens = tokens.Tokens.Count;
        if (promptTokens >= model.ContextLength)
            throw OpenAiError.BadRequest($"This model's maximum context length is {model.ContextLength} tokens, but the prompt has {promptTokens} tokens.",
                req.IsChat ? "messages" : "prompt", "context_length_exceeded");
        int room = model.ContextLength - promptTokens;
        int maxTokens = Math.Min(req.MaxTokens ?? room, room);
        if (maxTokens < 1) throw OpenAiError.BadRequest("a pipelined request generates at least one token", "max_tokens");
        ulong price = 0;
        foreach (var stage in chain) price += stage.Provider.Announcement.PricePerToken;

        var inference = new InferenceRequest
        {
            ModelHash = new Hash256(model.Hash.Span),
            PromptTokens = tokens.Tokens.ToArray(),
            Sampling = new SamplingParameters { Temperature = req.Temperature, TopK = req.TopK, TopP = req.TopP, MinP = req.MinP, RepeatPenalty = req.RepeatPenalty },
            Seed = req.Seed ?? BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)),
            MaxTokens = maxTokens,
            PriceLimit = (ulong)(promptTokens + maxTokens) * price,
            Client = gateway.Id,
            Nonce = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)),
        }.Sign(gateway.Key);
        string id = (req.IsChat ? "chatcmpl-" : "cmpl-") + inference.Hash().ToString()[..32];
        long created = time.GetUtcNow().ToUnixTimeSeconds();
        string holdId = inference.Hash().ToString();
        if (inference.PriceLimit > long.MaxValue) throw OpenAiError.BadRequest("the request's price limit is out of range", "max_tokens");
        var held = ledger.Hold(holdId, client, (long)inference.PriceLimit, inference.Hash());
        if (!held.IsOk)
        {
            if (held.Code is LedgerErrors.InsufficientFunds or LedgerErrors.UnknownAccount)
                throw new OpenAiError(402, $"Your balance ({ledger.Balance(client)} micro-units) cannot cover this request's price limit of {inference.PriceLimit}.",
                    "insufficient_quota", null, "insufficient_quota");
            throw new InvalidOperationException($"ledger hold failed: {held}");
        }

        bool settled = false;
        var stream = new CompletionHandler.StreamState { Id = id };
        var run = new PipelineRun(id, inference, inference.Encode(), [.. req.Stop.Concat(tokens.Stop).Distinct()], model.LayerCount, options.IdleTimeout)
        {
            StepObserver = (stage, rows, compute, step) =>
            {
                metrics.StageStep($"{model.Name}[{stage.Start}:{stage.End})", step.TotalSeconds);
                plan.Observe(model.Name, stage.Provider.Id, stage.Start, stage.End, step.TotalSeconds);
                if (lease != null) planned.ObserveStep(lease, stage, rows, step);
            },
            TokenObserver = (rows, wall, stages) =>
            {
                if (lease != null && rows == 1) planned.ObserveToken(lease, wall, stages);
            },
        };
        try
        {
            var text = new StringBuilder();
            await Generate(ctx, req, run, chain, excluded, text, stream, created, lease);
            // Each stage signs its part of the trace; a part that does not match what it reported is refused (docs/pipeline.md).
            if (await SignedParts(ctx, run, stream) is not { } parts) return;
            var (traceRoot, commitment) = run.Commitments();
            int completionTokens = run.Generated.Count;
            // Signed by the gateway on behalf of the pipeline: no single stage computed the whole trace (docs/pipeline.md).
            var receipt = new Receipt
            {
                RequestHash = inference.Hash(),
                OutputCommitment = new Hash256(commitment),
                TraceRoot = new Hash256(traceRoot),
                PromptTokens = promptTokens,
                CompletionTokens = completionTokens,
                Price = (ulong)(promptTokens + completionTokens) * price,
                Provider = gateway.Id,
                EngineBuild = ProviderState.EngineBuild,
            }.Sign(gateway.Key);
            // The provider's share of the fee is split across the stages by the layers each served (their signed parts say
            // which), rounding remainders to the last stage, which sampled every token.
            var stages = parts.Select(p => new StageShare(p.Provider, p.EndLayer - p.FirstLayer)).ToArray();
            var settlement = ledger.Settle(holdId, (long)receipt.Price, parts[^1].Provider, receipt.Hash(), inference.ModelHash, inference.AdapterHashes, out long epoch, stages);
            if (!settlement.IsOk) throw new InvalidOperationException($"settlement refused: {settlement}");
            settled = true;
            receipts.Add(new StoredReceipt(id, model.Name, client.ToString(), inference, receipt, time.GetUtcNow()) { StageParts = parts });
            challenges.ConsiderPipeline(new ChallengeService.PipelineAnswer(id, inference, receipt, parts, [.. run.Chain.Select(s => s.Provider.Id)],
                [.. run.Generated], run.SignedTrace!, [.. run.Stops]), epoch);
            string finish = run.FinishReason ?? "length";
            GatewayLog.Served(log, id, model.Name, "pipeline " + string.Join(" > ", run.Chain), promptTokens, completionTokens, finish);
            await Respond(ctx, req, id, created, text.ToString(), finish, (promptTokens, completionTokens), stream);
        }
        finally
        {
            if (!settled) ledger.Release(holdId, inference.Hash());
            await run.Close();
        }
    }

    /// <summary>Steps the chain until the last stage says the generation is finished, replacing stages that fail.</summary>
    private async Task Generate(HttpContext ctx, CompletionRequest req, PipelineRun run, IReadOnlyList<PipelineStage> chain, HashSet<string> excluded,
        StringBuilder text, CompletionHandler.StreamState stream, long created, PlannedPipeline.Lease? lease)
    {
        int failovers = 0;
        PipelineLog.Chain(log, stream.Id!, string.Join(" > ", chain));
        bool open = false;
        while (run.FinishReason is null)
        {
            try
            {
                if (!open)
                {
                    plan.Use(chain[0].Model.Name, chain.Select(s => (s.Provider.Id, s.Start, s.End)));
                    await run.Start(chain, ctx.RequestAborted);
                    open = true;
                }
                var (_, piece) = await run.Step(ctx.RequestAborted);
                if (piece.Length == 0) continue;
                text.Append(piece);
                if (req.Stream)
                {
                    await CompletionHandler.BeginStream(ctx, req, stream.Id!, created, stream);
                    await CompletionHandler.WriteEvent(ctx, w => CompletionHandler.Chunk(w, req, stream.Id!, created, piece, null));
                }
            }
            catch (StageFault fault) when (!fault.Invalid || stream.Begun)
            {
                directory.MarkFailed(fault.Stage.Provider, fault.Misbehaved ? fault.Message : null);
                excluded.Add(fault.Stage.Provider.Id);
                if (lease != null) await run.Close(); // a flexible survivor loads a new range only with no session open
                var next = ++failovers > options.MaxAttempts ? null
                    : lease != null ? await planned.Failover(lease, excluded, ctx.RequestAborted)
                    : PipelineChain.Choose(directory, req.Model, excluded);
                GatewayLog.ProviderFailed(log, fault.Stage.Provider.Id, stream.Id!, failovers, fault.Message);
                if (next is null)
                {
                    if (!stream.Begun) throw OpenAiError.Upstream($"stage {fault.Stage} failed and no other set of stages covers the model: {fault.Message}");
                    await CompletionHandler.WriteEvent(ctx, w => OpenAiError.Upstream($"the pipeline failed mid-stream: {fault.Message}").WriteJson(w));
                    throw;
                }
                PipelineLog.Failover(log, stream.Id!, fault.Stage.ToString(), run.Generated.Count, fault.Message, run.PromptLength + run.Generated.Count, string.Join(" > ", next));
                await run.Close();
                chain = next;
                open = false;
            }
            catch (StageFault fault)
            {
                throw OpenAiError.BadRequest(fault.Message);
            }
        }
    }

    /// <summary>
    /// The stages' signed parts, checked against the assembled trace (<see cref="PipelineRun.SignedParts"/>); null when a
    /// stage's part was refused (that provider is marked failed like a lying provider) or the stage could not be reached
    /// (marked failed): nothing is settled, and the client gets an error (in the stream, if it has begun).
    /// </summary>
    private async Task<StagePart[]?> SignedParts(HttpContext ctx, PipelineRun run, CompletionHandler.StreamState stream)
    {
        try
        {
            return await run.SignedParts(ctx.RequestAborted);
        }
        catch (StageFault fault)
        {
            directory.MarkFailed(fault.Stage.Provider, fault.Misbehaved ? fault.Message : null);
            GatewayLog.ProviderFailed(log, fault.Stage.Provider.Id, stream.Id!, 0, fault.Message);
            var error = OpenAiError.Upstream($"stage {fault.Stage} failed: {fault.Message}");
            if (!stream.Begun) throw error;
            await CompletionHandler.WriteEvent(ctx, w => error.WriteJson(w));
            return null;
        }
    }

    private static async Task Respond(HttpContext ctx, CompletionRequest req, string id, long created, string text, string finish, (int, int) usage,
        CompletionHandler.StreamState stream)
    {
        if (req.Stream)
        {
            await CompletionHandler.BeginStream(ctx, req, id, created, stream);
            await CompletionHandler.WriteEvent(ctx, w => CompletionHandler.Chunk(w, req, id, created, null, finish));
            if (req.IncludeUsage) await CompletionHandler.WriteEvent(ctx, w => CompletionHandler.UsageChunk(w, req, id, created, usage));
            await ctx.Response.Body.WriteAsync("data: [DONE]\n\n"u8.ToArray());
            await ctx.Response.Body.FlushAsync();
            return;
        }
        ctx.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(ctx.Response.Body);
        CompletionHandler.Full(json, req, id, created, text, finish, usage);
        await json.FlushAsync();
    }
}
