using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Cairn.Ledger;
using Cairn.Node.Gateway.OpenAi;
using Cairn.Node.Rpc;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Messages;
using Grpc.Core;

namespace Cairn.Node.Gateway;

/// <summary>
/// <c>POST /v1/completions</c> and <c>/v1/chat/completions</c>: authenticate, parse, route to a provider, relay its
/// tokens (SSE when streaming), verify its signed receipt, keep the evidence. A provider that fails before anything was
/// sent to the client is replaced by the next best one, so the client never sees a broken answer.
/// </summary>
public sealed class CompletionHandler(ProviderDirectory directory, GatewayState gateway, GatewayLedger ledger, ReceiptStore receipts, ChallengeService challenges,
    GatewayOptions options, Pipeline.PipelineHandler pipeline,
    TimeProvider time, ILogger<CompletionHandler> log)
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly TimeSpan ErrorEventGrace = TimeSpan.FromMilliseconds(200);

    public async Task Handle(HttpContext ctx, bool chat)
    {
        var client = ApiKeyAuth.Authenticate(ctx, options);
        byte[] body = await RequestBody.Read(ctx, options.MaxRequestBodyBytes);
        var req = CompletionRequest.Parse(body, chat);
        // No provider serves the whole model but stages do: the pipeline route (docs/pipeline.md).
        if (!directory.All().Any(p => p.Serves(req.Model)) && Pipeline.PipelineChain.Known(directory, req.Model))
        {
            await pipeline.Handle(ctx, req, client);
            return;
        }
        if (!directory.All().Any(p => p.Serves(req.Model)))
        {
            var (baseModel, adapterNames) = ModelWithAdapters.Split(req.Model);
            if (adapterNames.Length > 0 && directory.All().Any(p => p.Serves(baseModel)))
                throw OpenAiError.NotFound($"No provider serves the adapter(s) '{string.Join('+', adapterNames)}' on model '{baseModel}'", "model", "model_not_found");
            throw OpenAiError.NotFound($"The model '{req.Model}' does not exist", "model", "model_not_found");
        }

        var tried = new HashSet<string>(StringComparer.Ordinal);
        var started = new StreamState();
        OpenAiError? last = null;
        for (int attempt = 1; attempt <= options.MaxAttempts; attempt++)
        {
            var provider = directory.Choose(req.Model, tried);
            if (provider is null) break;
            tried.Add(provider.Id);
            provider.Begin();
            long begun = time.GetTimestamp();
            try
            {
                int tokens = await Serve(ctx, req, client, provider, started);
                Interlocked.Increment(ref provider.Served);
                directory.Reputation.RecordRequest(provider.Id, true, time.GetElapsedTime(begun), tokens);
                return;
            }
            catch (ProviderFault fault) when (!started.Begun)
            {
                directory.Reputation.RecordRequest(provider.Id, false, time.GetElapsedTime(begun), 0);
                directory.MarkFailed(provider, fault.Misbehaved ? fault.Message : null);
                GatewayLog.ProviderFailed(log, provider.Id, started.Id ?? "-", attempt, fault.Message);
                last = OpenAiError.Upstream($"the provider failed: {fault.Message}");
            }
            catch (ProviderFault fault)
            {
                // Tokens already reached the client: end the stream with an error event rather than a silent cut.
                directory.Reputation.RecordRequest(provider.Id, false, time.GetElapsedTime(begun), 0);
                directory.MarkFailed(provider, fault.Misbehaved ? fault.Message : null);
                GatewayLog.ProviderFailed(log, provider.Id, started.Id ?? "-", attempt, fault.Message);
                await WriteEvent(ctx, w => OpenAiError.Upstream($"the provider failed mid-stream: {fault.Message}").WriteJson(w));
                // Then cut the connection instead of ending the response cleanly: clients that ignore error events (the
                // OpenAI .NET SDK reads one as an empty update and ends quietly) see a broken stream, not a short answer.
                // The pause lets the event leave Kestrel's output buffer first (Abort discards what is still queued).
                await Task.Delay(ErrorEventGrace, CancellationToken.None);
                ctx.Abort();
                return;
            }
            finally
            {
                provider.End();
            }
        }
        throw last ?? OpenAiError.Unavailable($"no healthy provider serves '{req.Model}' right now");
    }

    /// <summary>Serves the request through one provider; returns the tokens generated.</summary>
    private async Task<int> Serve(HttpContext ctx, CompletionRequest req, Address client, ProviderEntry provider, StreamState state)
    {
        var (model, adapterHashes) = provider.Resolve(req.Model)!.Value;
        var tokenizeRequest = new TokenizeRequest { ModelHash = model.Hash, Prompt = req.Prompt ?? "" };
        if (req.Messages != null) tokenizeRequest.Messages.AddRange(req.Messages.Select(m => new Rpc.ChatMessage { Role = m.Role, Content = m.Content }));
        TokenizeReply tokens;
        try
        {
            tokens = await provider.Client.TokenizeAsync(tokenizeRequest, deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: ctx.RequestAborted);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.InvalidArgument or StatusCode.FailedPrecondition)
        {
            throw OpenAiError.BadRequest(e.Status.Detail, req.IsChat ? "messages" : "prompt");
        }
        catch (RpcException e) when (!ctx.RequestAborted.IsCancellationRequested)
        {
            throw new ProviderFault(e.Status.Detail.Length > 0 ? e.Status.Detail : e.StatusCode.ToString());
        }

        int promptTokens = tokens.Tokens.Count;
        if (promptTokens >= model.ContextLength)
            throw OpenAiError.BadRequest($"This model's maximum context length is {model.ContextLength} tokens, but the prompt has {promptTokens} tokens.",
                req.IsChat ? "messages" : "prompt", "context_length_exceeded");
        int room = model.ContextLength - promptTokens;
        int maxTokens = Math.Min(req.MaxTokens ?? room, room);

        var inference = new InferenceRequest
        {
            ModelHash = new Hash256(model.Hash.Span),
            AdapterHashes = adapterHashes,
            PromptTokens = tokens.Tokens.ToArray(),
            Sampling = new SamplingParameters
            {
                Temperature = req.Temperature,
                TopK = req.TopK,
                TopP = req.TopP,
                MinP = req.MinP,
                RepeatPenalty = req.RepeatPenalty,
            },
            Seed = req.Seed ?? BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)),
            MaxTokens = maxTokens,
            PriceLimit = (ulong)(promptTokens + maxTokens) * provider.Announcement.PricePerToken,
            Client = gateway.Id,
            Nonce = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)),
        }.Sign(gateway.Key);
        string id = (req.IsChat ? "chatcmpl-" : "cmpl-") + inference.Hash().ToString()[..32];
        state.Id = id;
        long created = time.GetUtcNow().ToUnixTimeSeconds();

        // The price limit is held from the client before any work; the hold ends in exactly one settlement or release.
        string holdId = inference.Hash().ToString();
        if (inference.PriceLimit > long.MaxValue) throw OpenAiError.BadRequest("the request's price limit is out of range", "max_tokens");
        if (ledger.RoyaltyProblem(inference.ModelHash, inference.AdapterHashes) is { } royalty) throw OpenAiError.BadRequest(royalty, "model");
        var held = ledger.Hold(holdId, client, (long)inference.PriceLimit, inference.Hash());
        if (!held.IsOk)
        {
            if (held.Code is LedgerErrors.InsufficientFunds or LedgerErrors.UnknownAccount)
                throw new OpenAiError(402, $"Your balance ({ledger.Balance(client)} micro-units) cannot cover this request's price limit of {inference.PriceLimit}.",
                    "insufficient_quota", null, "insufficient_quota");
            throw new InvalidOperationException($"ledger hold failed: {held}");
        }
        bool settled = false;
        try
        {

            var generate = new GenerateRequest { Request = Google.Protobuf.ByteString.CopyFrom(inference.Encode()) };
            generate.Stop.AddRange(req.Stop.Concat(tokens.Stop).Distinct());
            var text = new StringBuilder();
            int completionTokens = 0;
            var streamed = new List<int>(); // the token ids, for a dispute if this receipt is challenged
            DoneEvent? done = null;
            try
            {
                // A provider that goes silent (no event for IdleTimeout) is treated as failed, like one that disconnects.
                using var idle = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted);
                idle.CancelAfter(options.IdleTimeout);
                using var call = provider.Client.Generate(generate, cancellationToken: idle.Token);
                while (await call.ResponseStream.MoveNext(idle.Token))
                {
                    idle.CancelAfter(options.IdleTimeout);
                    var e = call.ResponseStream.Current;
                    if (e.EventCase == GenerateEvent.EventOneofCase.Done)
                    {
                        done = e.Done;
                        break;
                    }
                    if (e.Token.Id >= 0)
                    {
                        completionTokens++;
                        streamed.Add(e.Token.Id);
                    }
                    if (e.Token.Text.Length == 0) continue;
                    text.Append(e.Token.Text);
                    if (req.Stream)
                    {
                        await BeginStream(ctx, req, id, created, state);
                        await WriteEvent(ctx, w => Chunk(w, req, id, created, e.Token.Text, null));
                    }
                }
            }
            catch (RpcException e) when (!ctx.RequestAborted.IsCancellationRequested)
            {
                if (e.StatusCode is StatusCode.InvalidArgument && !state.Begun) throw OpenAiError.BadRequest(e.Status.Detail);
                throw new ProviderFault(e.Status.Detail.Length > 0 ? e.Status.Detail : e.StatusCode.ToString());
            }
            catch (OperationCanceledException) when (!ctx.RequestAborted.IsCancellationRequested)
            {
                throw new ProviderFault($"the provider sent nothing for {options.IdleTimeout.TotalSeconds:F0} s");
            }
            if (done is null) throw new ProviderFault("the provider ended the stream without a receipt");

            var receipt = ReceiptCheck.Check(done.Receipt.Span, inference, provider.Id, out string? refused)
                ?? throw new ProviderFault(refused!, misbehaved: true);
            if (receipt.CompletionTokens != completionTokens || receipt.PromptTokens != promptTokens)
                throw new ProviderFault($"the receipt counts {receipt.PromptTokens}+{receipt.CompletionTokens} tokens, the stream carried {promptTokens}+{completionTokens}", misbehaved: true);
            var settlement = ledger.Settle(holdId, (long)receipt.Price, receipt.Provider, receipt.Hash(), inference.ModelHash, inference.AdapterHashes, out long settledEpoch);
            if (!settlement.IsOk) throw new ProviderFault($"settlement refused: {settlement}", misbehaved: true);
            settled = true;
            receipts.Add(new StoredReceipt(id, model.Name, client.ToString(), inference, receipt, time.GetUtcNow()));
            GatewayLog.Served(log, id, model.Name, provider.Id, promptTokens, completionTokens, done.FinishReason);
            challenges.Consider(id, req.Model, provider, generate, inference, receipt, [.. streamed], settledEpoch, client);

            var usage = (promptTokens, completionTokens);
            if (req.Stream)
            {
                await BeginStream(ctx, req, id, created, state);
                await WriteEvent(ctx, w => Chunk(w, req, id, created, null, done.FinishReason));
                if (req.IncludeUsage) await WriteEvent(ctx, w => UsageChunk(w, req, id, created, usage));
                await ctx.Response.Body.WriteAsync("data: [DONE]\n\n"u8.ToArray());
                await ctx.Response.Body.FlushAsync();
                return completionTokens;
            }
            ctx.Response.ContentType = "application/json";
            await using var json = new Utf8JsonWriter(ctx.Response.Body);
            Full(json, req, id, created, text.ToString(), done.FinishReason, usage);
            await json.FlushAsync();
            return completionTokens;
        }
        finally
        {
            if (!settled) ledger.Release(holdId, inference.Hash());
        }
    }

    internal static async Task BeginStream(HttpContext ctx, CompletionRequest req, string id, long created, StreamState state)
    {
        if (state.Begun) return;
        state.Begun = true;
        ctx.Response.ContentType = "text/event-stream";
        ctx.Response.Headers.CacheControl = "no-cache";
        if (req.IsChat) await WriteEvent(ctx, w => Chunk(w, req, id, created, "", null, role: true));
    }

    internal static async Task WriteEvent(HttpContext ctx, Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        buffer.Write<byte>(DataPrefix);
        using (var w = new Utf8JsonWriter(buffer)) write(w);
        buffer.Write<byte>(EventEnd);
        await ctx.Response.Body.WriteAsync(buffer.WrittenMemory);
        await ctx.Response.Body.FlushAsync();
    }

    private static void Header(Utf8JsonWriter w, CompletionRequest req, string id, long created, bool chunk)
    {
        w.WriteString("id", id);
        w.WriteString("object", req.IsChat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion");
        w.WriteNumber("created", created);
        w.WriteString("model", req.Model);
        w.WriteString("system_fingerprint", ProviderFingerprint);
    }

    private const string ProviderFingerprint = "cairn-0.1";

    internal static void Chunk(Utf8JsonWriter w, CompletionRequest req, string id, long created, string? text, string? finish, bool role = false)
    {
        w.WriteStartObject();
        Header(w, req, id, created, chunk: true);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        if (req.IsChat)
        {
            w.WriteStartObject("delta");
            if (role) w.WriteString("role", "assistant");
            if (text != null) w.WriteString("content", text);
            w.WriteEndObject();
        }
        else w.WriteString("text", text ?? "");
        w.WriteNull("logprobs");
        if (finish is null) w.WriteNull("finish_reason");
        else w.WriteString("finish_reason", finish);
        w.WriteEndObject();
        w.WriteEndArray();
        if (req.IncludeUsage) w.WriteNull("usage");
        w.WriteEndObject();
    }

    internal static void UsageChunk(Utf8JsonWriter w, CompletionRequest req, string id, long created, (int Prompt, int Completion) usage)
    {
        w.WriteStartObject();
        Header(w, req, id, created, chunk: true);
        w.WriteStartArray("choices");
        w.WriteEndArray();
        Usage(w, usage);
        w.WriteEndObject();
    }

    internal static void Full(Utf8JsonWriter w, CompletionRequest req, string id, long created, string text, string finish, (int Prompt, int Completion) usage)
    {
        w.WriteStartObject();
        Header(w, req, id, created, chunk: false);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        if (req.IsChat)
        {
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
            w.WriteString("content", text);
            w.WriteEndObject();
        }
        else w.WriteString("text", text);
        w.WriteNull("logprobs");
        w.WriteString("finish_reason", finish);
        w.WriteEndObject();
        w.WriteEndArray();
        Usage(w, usage);
        w.WriteEndObject();
    }

    private static void Usage(Utf8JsonWriter w, (int Prompt, int Completion) usage)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", usage.Prompt);
        w.WriteNumber("completion_tokens", usage.Completion);
        w.WriteNumber("total_tokens", usage.Prompt + usage.Completion);
        w.WriteEndObject();
    }

    /// <summary>Whether bytes already went to the client (then no retry is possible).</summary>
    internal sealed class StreamState
    {
        public bool Begun { get; set; }
        public string? Id { get; set; }
    }

    /// <summary>A failed provider call; <see cref="Misbehaved"/> when the provider answered with a receipt that does not hold.</summary>
    private sealed class ProviderFault(string message, bool misbehaved = false) : Exception(message)
    {
        public bool Misbehaved { get; } = misbehaved;
    }
}
