using System.Threading.Channels;
using Cairn.Engine.Chat;
using Cairn.Engine.Generation;
using Cairn.Engine.Sampling;
using Cairn.Engine.Tokenization;
using Cairn.Node.Rpc;
using Cairn.Protocol.Messages;
using Grpc.Core;

namespace Cairn.Node.Provider;

/// <summary>
/// The gRPC side of a provider: tokenizes prompts and chats, and generates for signed requests, streaming tokens and
/// ending with a signed receipt that commits to the exact tokens returned.
/// </summary>
public sealed partial class ProviderService(ProviderState state, ILogger<ProviderService> log) : Rpc.Provider.ProviderBase
{
    public const int MaxPromptChars = 1 << 20;

    public override Task<TokenizeReply> Tokenize(TokenizeRequest request, ServerCallContext context)
    {
        var model = state.Find(request.ModelHash.Span) ?? throw new RpcException(new Status(StatusCode.NotFound, "this provider does not serve that model"));
        var reply = new TokenizeReply();
        string text;
        if (request.Messages.Count > 0)
        {
            if (model.Template is null) throw new RpcException(new Status(StatusCode.FailedPrecondition, model.TemplateError ?? "no chat template"));
            text = model.Template.Render(request.Messages.Select(m => new Engine.Chat.ChatMessage(m.Role, m.Content)).ToList(), addGenerationPrompt: true);
            reply.Stop.AddRange(model.Template.StopStrings);
            reply.Template = model.Template.Name;
        }
        else text = request.Prompt;
        if (text.Length > MaxPromptChars) throw new RpcException(new Status(StatusCode.InvalidArgument, $"the prompt is longer than {MaxPromptChars} characters"));
        reply.Tokens.AddRange(model.Tokenizer.Encode(text, model.Tokenizer.AddBos, parseSpecial: true));
        return Task.FromResult(reply);
    }

    public override async Task Generate(GenerateRequest request, IServerStreamWriter<GenerateEvent> responseStream, ServerCallContext context)
    {
        if (!InferenceRequest.TryDecode(request.Request.Span, out var decoded, out var malformed))
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"malformed request: {malformed}"));
        var inference = decoded!;
        var check = inference.Verify();
        if (!check.IsValid) throw new RpcException(new Status(StatusCode.PermissionDenied, $"request signature: {check}"));
        if (inference.CheckParameters() is { IsValid: false } badParameters)
            throw new RpcException(new Status(StatusCode.InvalidArgument, badParameters.ToString()));
        if (state.Gateway is { } gateway && inference.Client != gateway)
            throw new RpcException(new Status(StatusCode.PermissionDenied, "the request is not signed by this provider's gateway"));
        var model = state.Find(inference.ModelHash.ToArray()) ?? throw new RpcException(new Status(StatusCode.NotFound, "this provider does not serve that model"));
        if (model.IsStage)
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"this provider serves only layers {model.Model.FirstLayer}:{model.Model.EndLayer} of the model (the Stage service)"));
        var adapters = Adapters(model, inference);
        if (request.Stop.Count > 16 || request.Stop.Any(s => s.Length is 0 or > 256))
            throw new RpcException(new Status(StatusCode.InvalidArgument, "at most 16 stop strings of 1 to 256 characters"));
        int[] prompt = inference.PromptTokens.ToArray();
        if (prompt.Length == 0 || prompt.Length >= model.Model.Config.ContextLength)
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"the prompt has {prompt.Length} tokens; the context holds {model.Model.Config.ContextLength}"));
        if (prompt.Any(t => (uint)t >= (uint)model.Model.Config.VocabSize))
            throw new RpcException(new Status(StatusCode.InvalidArgument, "a prompt token is outside the vocabulary"));

        // FAULT INJECTION (tests only): a lazy validator answers at once without computing; the cheats of this request.
        var requestHash = inference.Hash();
        if (request.Validation && state.Faults.LazyValidator)
        {
            await responseStream.WriteAsync(new GenerateEvent { Done = Done(state.SignGuessedReceipt(inference, model.Model.Config.ContextLength), "length") }, context.CancellationToken);
            return;
        }
        bool cheat = state.Faults.CheatsOn(requestHash, request.Validation);

        var sampling = new SamplingOptions
        {
            Temperature = inference.Sampling.Temperature,
            TopK = inference.Sampling.TopK,
            TopP = inference.Sampling.TopP,
            MinP = inference.Sampling.MinP,
            RepeatPenalty = inference.Sampling.RepeatPenalty,
            RepeatLastN = inference.Sampling.RepeatLastN,
            Seed = state.Faults.Seed(inference.Seed, cheat), // FAULT INJECTION (tests only): wrong-seed
        };
        if (sampling.Validate() is { } bad) throw new RpcException(new Status(StatusCode.InvalidArgument, bad));
        var options = new GenerationOptions
        {
            MaxTokens = Math.Min(inference.MaxTokens, model.Model.Config.ContextLength - prompt.Length),
            Sampling = sampling,
            Commitment = true,
            Adapters = adapters,
            TokenOverride = state.Faults.TokenOverride(requestHash, model.Model.Config.VocabSize, cheat), // FAULT INJECTION (tests only): random-tokens
        };

        var events = Channel.CreateUnbounded<TokenEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var decoder = new StreamingDecoder(model.Tokenizer);
        var stops = new StopMatcher(request.Stop);
        int generated = 0;
        state.Begin();
        try
        {
            var generation = model.Batcher.Submit(prompt, options, token =>
            {
                string text = model.Tokenizer.IsEndOfGeneration(token) ? "" : stops.Push(decoder.Push(token));
                events.Writer.TryWrite(new TokenEvent { Id = token, Text = text });
                state.Faults.AfterToken(); // FAULT INJECTION (tests only): may stall here for good
                return stops.Stopped || state.Faults.Truncates(++generated, cheat); // FAULT INJECTION (tests only): truncate
            }, context.CancellationToken);
            _ = generation.ContinueWith(_ => events.Writer.TryComplete(), TaskScheduler.Default);

            await foreach (var e in events.Reader.ReadAllAsync(context.CancellationToken))
                await responseStream.WriteAsync(new GenerateEvent { Token = e }, context.CancellationToken);
            var result = await generation;
            string tail = stops.Stopped ? "" : stops.Push(decoder.Flush()) + stops.Flush();
            if (tail.Length > 0) await responseStream.WriteAsync(new GenerateEvent { Token = new TokenEvent { Id = -1, Text = tail } }, context.CancellationToken);

            var receipt = state.SignReceipt(inference, result, cheat);
            await responseStream.WriteAsync(new GenerateEvent { Done = Done(receipt, result.StopReason == "stop" ? "stop" : "length") }, context.CancellationToken);
            ProviderLog.Served(log, requestHash.ToString()[..16], model.Name, prompt.Length, result.Tokens.Length, result.StopReason);
        }
        finally
        {
            state.End();
        }
    }

    private static DoneEvent Done(Receipt receipt, string finishReason) => new()
    {
        FinishReason = finishReason,
        Receipt = Google.Protobuf.ByteString.CopyFrom(receipt.Encode()),
        PromptTokens = receipt.PromptTokens,
        CompletionTokens = receipt.CompletionTokens,
    };
}
