using System.Diagnostics;
using System.Runtime.InteropServices;
using Cairn.Engine.Sampling;
using Cairn.Engine.Tokenization;
using Cairn.Node.Rpc;
using Cairn.Protocol.Messages;
using Google.Protobuf;
using Grpc.Core;

namespace Cairn.Node.Provider;

/// <summary>
/// The gRPC side of a pipeline stage (<c>cairn node --layers A:B</c>, docs/pipeline.md): sessions opened by the gateway
/// for its signed requests, steps that run the stage's layers on token ids (stage 0) or on the previous stage's output
/// rows, and return the next rows — or, on the last stage, the sampled token. Each step also returns the stage's layer
/// hashes for its rows, from which the gateway assembles the request's trace and output commitment.
/// </summary>
public sealed partial class StageService(ProviderState state, StageSessions sessions, TimeProvider time) : Rpc.Stage.StageBase
{
    public const int MaxSessionIdLength = 64;

    public override Task<StageOpenReply> Open(StageOpenRequest request, ServerCallContext context)
    {
        sessions.LoadGate.Wait(context.CancellationToken); // a flexible stage does not swap its range under an opening session
        try
        {
            return Task.FromResult(OpenSession(request));
        }
        finally
        {
            sessions.LoadGate.Release();
        }
    }

    private StageOpenReply OpenSession(StageOpenRequest request)
    {
        if (request.SessionId.Length is 0 or > MaxSessionIdLength) throw Invalid($"session_id must have 1 to {MaxSessionIdLength} characters");
        if (!InferenceRequest.TryDecode(request.Request.Span, out var decoded, out var malformed)) throw Invalid($"malformed request: {malformed}");
        var inference = decoded!;
        if (!inference.Verify().IsValid) throw new RpcException(new Status(StatusCode.PermissionDenied, $"request signature: {inference.Verify()}"));
        if (inference.CheckParameters() is { IsValid: false } bad) throw Invalid(bad.ToString());
        if (state.Gateway is { } gateway && inference.Client != gateway)
            throw new RpcException(new Status(StatusCode.PermissionDenied, "the request is not signed by this provider's gateway"));
        var model = state.Find(inference.ModelHash.ToArray()) ?? throw new RpcException(new Status(StatusCode.NotFound, "this provider does not serve that model"));
        var config = model.Model.Config;
        int[] prompt = inference.PromptTokens.ToArray();
        if (prompt.Length == 0 || prompt.Length >= config.ContextLength) throw Invalid($"the prompt has {prompt.Length} tokens; the context holds {config.ContextLength}");
        if (prompt.Any(t => (uint)t >= (uint)config.VocabSize) || request.Generated.Any(t => (uint)t >= (uint)config.VocabSize))
            throw Invalid("a token is outside the vocabulary");
        if (request.Stop.Count > 16 || request.Stop.Any(s => s.Length is 0 or > 256)) throw Invalid("at most 16 stop strings of 1 to 256 characters");
        int maxTokens = Math.Min(inference.MaxTokens, config.ContextLength - prompt.Length);
        if (request.Generated.Count >= Math.Max(maxTokens, 1)) throw Invalid($"{request.Generated.Count} tokens were already generated; the request allows {maxTokens}");

        StageSession session;
        if (model.Model.HasHead)
        {
            var sampling = new SamplingOptions
            {
                Temperature = inference.Sampling.Temperature,
                TopK = inference.Sampling.TopK,
                TopP = inference.Sampling.TopP,
                MinP = inference.Sampling.MinP,
                RepeatPenalty = inference.Sampling.RepeatPenalty,
                RepeatLastN = inference.Sampling.RepeatLastN,
                Seed = state.Faults.Seed(inference.Seed, cheat: true), // FAULT INJECTION (tests only): wrong-seed; the request's seed otherwise
            };
            if (sampling.Validate() is { } badSampling) throw Invalid(badSampling);
            int[] generated = request.Generated.ToArray();
            session = new StageSession(model, inference, model.Transformer.CreateSession(trace: true))
            {
                Sampler = Sampler.Resume(sampling, [.. prompt, .. generated], generated.Length),
                Decoder = new StreamingDecoder(model.Tokenizer),
                Stops = new StopMatcher(request.Stop),
                MaxTokens = maxTokens,
            };
            // A replay: the detokenizer and stop matcher see the tokens already streamed (their text is not sent again).
            foreach (int token in generated)
            {
                session.Generated.Add(token);
                if (!model.Tokenizer.IsEndOfGeneration(token)) session.Stops!.Push(session.Decoder!.Push(token));
            }
        }
        else session = new StageSession(model, inference, model.Transformer.CreateSession(trace: true));
        if (!sessions.TryAdd(request.SessionId, session))
            throw new RpcException(new Status(StatusCode.ResourceExhausted, $"this stage holds {StageSessions.MaxSessions} sessions already"));
        return new StageOpenReply { LayerStart = model.Model.FirstLayer, LayerEnd = model.Model.EndLayer };
    }

    public override async Task<StageStepReply> Step(StageStepRequest request, ServerCallContext context)
    {
        var session = sessions.Find(request.SessionId) ?? throw new RpcException(new Status(StatusCode.NotFound, $"no open session '{request.SessionId}'"));
        var model = session.Model.Model;
        int dim = model.Config.Dim;
        await session.Gate.WaitAsync(context.CancellationToken);
        try
        {
            if (session.Finished != null) throw new RpcException(new Status(StatusCode.FailedPrecondition, "the generation has finished"));
            if (request.Start < 0 || request.Start > session.Session.Length)
                throw Invalid($"start {request.Start} would leave a gap: the session holds {session.Session.Length} positions");
            int rows = model.HasEmbedding ? request.Tokens.Count : request.Activations.Length / (dim * sizeof(float));
            if (rows == 0) throw Invalid(model.HasEmbedding ? "stage 0 needs token ids" : "no activations");
            if (!model.HasEmbedding && request.Activations.Length != rows * dim * sizeof(float))
                throw Invalid($"activations hold {request.Activations.Length} bytes, not a multiple of {dim} f32 rows");
            if (request.Start + rows > session.Session.Capacity) throw Invalid($"{request.Start} + {rows} positions exceed the context of {session.Session.Capacity}");
            if (model.HasEmbedding && request.Tokens.Any(t => (uint)t >= (uint)model.Config.VocabSize)) throw Invalid("a token is outside the vocabulary");

            using var device = await EnterDevice(context.CancellationToken);
            var clock = Stopwatch.StartNew();
            float[] hidden;
            if (model.HasEmbedding) hidden = session.Model.Transformer.StageForward(session.Session, request.Start, request.Tokens.ToArray());
            else
            {
                hidden = new float[rows * dim];
                ReadFloats(request.Activations.Span, hidden);
                session.Model.Transformer.RunStage(session.Session, request.Start, hidden);
            }
            var reply = new StageStepReply { Token = -1 };
            for (int p = request.Start; p < request.Start + rows; p++)
            {
                for (int l = model.FirstLayer; l < model.EndLayer; l++) reply.LayerHashes.Add(ByteString.CopyFrom(session.Session.Trace!.LayerHash(p, l)));
            }
            if (model.HasHead) Sample(session, hidden, reply);
            else reply.Activations = ByteString.CopyFrom(MemoryMarshal.AsBytes(state.Faults.Forwarded(hidden, dim).AsSpan())); // FAULT INJECTION: forward-other-rows
            var compute = clock.Elapsed;
            reply.ComputeUs = (long)compute.TotalMicroseconds;
            await Emulate(model, rows, compute, context.CancellationToken);
            reply.StepUs = (long)clock.Elapsed.TotalMicroseconds;
            return reply;
        }
        finally
        {
            session.Gate.Release();
        }
    }

    public override async Task<StageCloseReply> Close(StageCloseRequest request, ServerCallContext context)
    {
        if (!request.SignPart)
        {
            sessions.Remove(request.SessionId);
            return new StageCloseReply();
        }
        var session = sessions.Find(request.SessionId) ?? throw new RpcException(new Status(StatusCode.NotFound, $"no open session '{request.SessionId}'"));
        await session.Gate.WaitAsync(context.CancellationToken);
        try
        {
            var part = SignedPart(session);
            sessions.Remove(request.SessionId);
            return new StageCloseReply { Part = ByteString.CopyFrom(part.Encode()) };
        }
        finally
        {
            session.Gate.Release();
        }
    }

    /// <summary>The last stage's head, sampler and stop rules: as <see cref="ProviderService.Generate"/> decides them.</summary>
    private static void Sample(StageSession session, float[] hidden, StageStepReply reply)
    {
        var model = session.Model;
        var stops = session.Stops!;
        var decoder = session.Decoder!;
        int token = session.Sampler!.Sample(model.Transformer.LastLogits(hidden));
        session.Generated.Add(token);
        bool end = model.Tokenizer.IsEndOfGeneration(token);
        string text = end ? "" : stops.Push(decoder.Push(token));
        if (end || stops.Stopped) session.Finished = "stop";
        else if (session.Generated.Count >= session.MaxTokens) session.Finished = "length";
        if (session.Finished != null && !stops.Stopped) text += stops.Push(decoder.Flush()) + stops.Flush();
        reply.Token = token;
        reply.Text = text;
        reply.FinishReason = session.Finished ?? "";
    }

    private static void ReadFloats(ReadOnlySpan<byte> bytes, Span<float> destination)
    {
        if (BitConverter.IsLittleEndian) MemoryMarshal.Cast<byte, float>(bytes).CopyTo(destination);
        else for (int i = 0; i < destination.Length; i++) destination[i] = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * 4)..]);
    }

    private static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));
}
