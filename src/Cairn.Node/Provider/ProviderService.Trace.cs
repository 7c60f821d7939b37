using Cairn.Engine.Verification;
using Cairn.Node.Rpc;
using Cairn.Protocol.Messages;
using Grpc.Core;

namespace Cairn.Node.Provider;

/// <summary>The <c>Trace</c> RPC: a provider's side of a dispute (DESIGN.md §4.4, docs/verification.md "In the network").</summary>
public sealed partial class ProviderService
{
    /// <summary>The largest reply (layer hashes and captured rows) a trace may produce; the gateway's channel accepts it.</summary>
    public const long MaxTraceReplyBytes = 60L << 20;

    /// <summary>
    /// Replays a generation this provider answered (as asserter or validator): the signed request's prompt and the
    /// generated tokens it streamed, all but the last fed (the last token is never fed back), through the transformer it
    /// serves the model with, so the trace is whatever that transformer computes. Returns every step's root and layer
    /// hashes (step-major) and, when asked, <c>capture_layer</c>'s outputs at steps 0..capture_steps−1. Refuses a request
    /// it would refuse to generate for, token counts beyond the request's limit or the context, and capture values out of
    /// range, with InvalidArgument naming the field.
    /// </summary>
    public override Task<TraceReply> Trace(TraceRequest request, ServerCallContext context)
    {
        if (!InferenceRequest.TryDecode(request.Request.Span, out var decoded, out var malformed))
            throw Invalid($"malformed request: {malformed}");
        var inference = decoded!;
        var check = inference.Verify();
        if (!check.IsValid) throw new RpcException(new Status(StatusCode.PermissionDenied, $"request signature: {check}"));
        if (state.Gateway is { } gateway && inference.Client != gateway)
            throw new RpcException(new Status(StatusCode.PermissionDenied, "the request is not signed by this provider's gateway"));
        var model = state.Find(inference.ModelHash.ToArray()) ?? throw new RpcException(new Status(StatusCode.NotFound, "this provider does not serve that model"));
        var config = model.Model.Config;
        var adapters = Adapters(model, inference);
        int prompt = inference.PromptTokens.Count, generated = request.Generated.Count;
        if (prompt == 0 || prompt >= config.ContextLength) throw Invalid($"the prompt has {prompt} tokens; the context holds {config.ContextLength}");
        if (generated < 1 || generated > inference.MaxTokens || prompt + generated - 1 > config.ContextLength)
            throw Invalid($"generated: {generated} tokens; between 1 and {Math.Min(inference.MaxTokens, config.ContextLength - prompt + 1)} for this request");
        int[] fed = [.. inference.PromptTokens, .. request.Generated.Take(generated - 1)];
        if (fed.Any(t => (uint)t >= (uint)config.VocabSize) || (uint)request.Generated[^1] >= (uint)config.VocabSize)
            throw Invalid($"a token is outside the vocabulary of {config.VocabSize}");
        int steps = fed.Length;
        if (request.CaptureLayer < -1 || request.CaptureLayer >= config.Layers)
            throw Invalid($"capture_layer {request.CaptureLayer} is out of range (-1 for none, or 0 to {config.Layers - 1})");
        if (request.CaptureSteps < 0 || request.CaptureSteps > steps)
            throw Invalid($"capture_steps {request.CaptureSteps} is out of range (0 to {steps}, the trace's steps)");
        int captureSteps = request.CaptureLayer < 0 ? 0 : request.CaptureSteps;
        long bytes = (long)steps * (config.Layers + 1) * 32 + (long)captureSteps * config.Dim * 4;
        if (bytes > MaxTraceReplyBytes) throw Invalid($"the trace would take {bytes} bytes; at most {MaxTraceReplyBytes}");

        return Task.Run(() =>
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            var trace = TraceExport.Replay(model.Transformer, fed, captureSteps > 0 ? request.CaptureLayer : -1, adapters);
            var reply = new TraceReply { Layers = config.Layers };
            foreach (var root in trace.StepRoots) reply.StepRoots.Add(Google.Protobuf.ByteString.CopyFrom(root));
            foreach (var step in trace.LayerHashes)
                foreach (var hash in step) reply.LayerHashes.Add(Google.Protobuf.ByteString.CopyFrom(hash));
            for (int s = 0; s < captureSteps; s++) reply.Captured.Add(Google.Protobuf.ByteString.CopyFrom(Engine.Commitments.CanonicalFloats.Bytes(trace.Captured![s])));
            return reply;
        }, context.CancellationToken);
    }

    /// <summary>
    /// The request's adapters from this provider's own files, or NotFound: a provider never fetches an adapter, so a
    /// request for one it was not given (e.g. a private adapter it is not allowed to hold) is refused here.
    /// </summary>
    private Engine.Adapters.LoraAdapter[] Adapters(ServedModel model, InferenceRequest inference)
    {
        var adapters = model.ResolveAdapters(inference.AdapterHashes, out var unknown)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"this provider does not serve adapter {unknown} on model {model.Name}"));
        return state.Faults.IgnoreAdapter ? [] : adapters; // FAULT INJECTION (tests only): ignore-adapter
    }

    private static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));
}
