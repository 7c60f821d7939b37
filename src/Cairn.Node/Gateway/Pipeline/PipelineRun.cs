using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Cairn.Engine.Commitments;
using Cairn.Node.Rpc;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Messages;
using Google.Protobuf;
using Grpc.Core;

namespace Cairn.Node.Gateway.Pipeline;

/// <summary>
/// One request's walk through a chain of stages: stage 0 gets token ids, each later stage the previous one's output rows
/// (through the gateway), the last returns the sampled token. The layer hashes every stage reports are assembled into the
/// request's trace, so its trace root and output commitment are those of a single-process run (DESIGN.md §3 rule 7).
/// A stage whose call fails is replaced: a new chain is chosen without it, every stage of it gets a fresh session
/// (<c>Open</c> with the tokens generated so far) and the prompt plus those tokens are replayed in one prefill, after which
/// the generation continues — with exactly the tokens it would have produced, since every bit is deterministic.
/// </summary>
public sealed class PipelineRun(string requestId, InferenceRequest request, byte[] encodedRequest, IReadOnlyList<string> stop, int layers, TimeSpan stepTimeout)
{
    private readonly TraceRecorder _trace = new(layers);
    private IReadOnlyList<PipelineStage> _chain = [];
    private int _opened;
    private int _position;
    private int[] _input = request.PromptTokens.ToArray();

    public List<int> Generated { get; } = [];
    /// <summary>The stop strings the last stage is given.</summary>
    public IReadOnlyList<string> Stops => stop;
    public int PromptLength => request.PromptTokens.Count;
    public string? FinishReason { get; private set; }
    public IReadOnlyList<PipelineStage> Chain => _chain;
    /// <summary>f32 bytes that crossed stage boundaries (through the gateway), for the bytes-per-token figure.</summary>
    public long ActivationBytes { get; private set; }
    /// <summary>Called after each stage's step with its row count, its real compute time and the time the (emulated) device took (dashboard, /metrics, re-planning).</summary>
    public Action<PipelineStage, int, TimeSpan, TimeSpan>? StepObserver { get; set; }
    /// <summary>Called after each step through the whole chain with its row count, its wall time at the gateway and the stages' share of it.</summary>
    public Action<int, TimeSpan, TimeSpan>? TokenObserver { get; set; }
    private TimeSpan _stageTime;

    /// <summary>Opens a session on every stage of <paramref name="chain"/>; the next step replays the prompt and the tokens so far.</summary>
    public async Task Start(IReadOnlyList<PipelineStage> chain, CancellationToken cancel)
    {
        _chain = chain;
        _opened++;
        _position = 0;
        _input = [.. request.PromptTokens, .. Generated];
        var open = new StageOpenRequest { SessionId = SessionId, Request = ByteString.CopyFrom(encodedRequest) };
        open.Stop.AddRange(stop);
        open.Generated.AddRange(Generated);
        foreach (var stage in chain)
        {
            var opened = await Call(stage, s => s.Client.OpenAsync(open, deadline: Deadline, cancellationToken: cancel).ResponseAsync, cancel);
            // A flexible stage may have been given another range since the chain was chosen: replace it rather than misread its hashes.
            if (opened.LayerStart != stage.Start || opened.LayerEnd != stage.End)
                throw new StageFault(stage, $"the stage serves layers {opened.LayerStart}:{opened.LayerEnd}, not {stage.Start}:{stage.End}");
        }
    }

    private string SessionId => $"{requestId}/{_opened}";
    private DateTime Deadline => DateTime.UtcNow + stepTimeout;

    /// <summary>One token step through every stage; returns the new token and its text.</summary>
    public async Task<(int Token, string Text)> Step(CancellationToken cancel)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        _stageTime = TimeSpan.Zero;
        var first = new StageStepRequest { SessionId = SessionId, Start = _position };
        first.Tokens.AddRange(_input);
        StageStepReply reply = await Call(_chain[0], s => s.Client.StepAsync(first, deadline: Deadline, cancellationToken: cancel).ResponseAsync, cancel);
        Record(_chain[0], reply);
        for (int i = 1; i < _chain.Count; i++)
        {
            var next = new StageStepRequest { SessionId = SessionId, Start = _position, Activations = reply.Activations };
            ActivationBytes += reply.Activations.Length;
            reply = await Call(_chain[i], s => s.Client.StepAsync(next, deadline: Deadline, cancellationToken: cancel).ResponseAsync, cancel);
            Record(_chain[i], reply);
        }
        if (reply.Token < 0) throw new StageFault(_chain[^1], "the last stage returned no token", misbehaved: true);
        TokenObserver?.Invoke(_input.Length, System.Diagnostics.Stopwatch.GetElapsedTime(started), _stageTime);
        _position += _input.Length;
        Generated.Add(reply.Token);
        _input = [reply.Token];
        if (reply.FinishReason.Length > 0) FinishReason = reply.FinishReason;
        return (reply.Token, reply.Text);
    }

    /// <summary>The trace root and output commitment of what was generated (every position's layers all reported).</summary>
    public (byte[] TraceRoot, byte[] OutputCommitment) Commitments()
    {
        byte[] root = _trace.TraceRoot();
        return (root, OutputCommitment.Compute(Generated.ToArray(), root));
    }

    /// <summary>Ends the sessions of the current chain (best effort: a dead stage has nothing to close).</summary>
    public async Task Close()
    {
        var close = new StageCloseRequest { SessionId = SessionId };
        foreach (var stage in _chain)
        {
            try
            {
                await stage.Client.CloseAsync(close, deadline: DateTime.UtcNow.AddSeconds(2));
            }
            catch (RpcException)
            {
            }
        }
    }

    private void Record(PipelineStage stage, StageStepReply reply)
    {
        var compute = TimeSpan.FromTicks(Math.Max(0, reply.ComputeUs) * TimeSpan.TicksPerMicrosecond);
        var step = reply.StepUs > 0 ? TimeSpan.FromTicks(reply.StepUs * TimeSpan.TicksPerMicrosecond) : compute;
        _stageTime += step;
        StepObserver?.Invoke(stage, _input.Length, compute, step);
        int width = stage.End - stage.Start;
        if (reply.LayerHashes.Count != _input.Length * width)
            throw new StageFault(stage, $"{reply.LayerHashes.Count} layer hashes for {_input.Length} rows of {width} layers", misbehaved: true);
        for (int r = 0; r < _input.Length; r++)
        {
            for (int l = 0; l < width; l++)
            {
                var hash = reply.LayerHashes[r * width + l];
                if (hash.Length != MerkleTree.HashSize) throw new StageFault(stage, "a layer hash is not 32 bytes", misbehaved: true);
                _trace.RecordHash(_position + r, stage.Start + l, hash.Span);
            }
        }
        if (stage.End < layers) CheckActivations(stage, reply, width);
    }

    /// <summary>
    /// The rows a stage hands on must be the outputs it hashed: each row's SHA-256 (canonical fp32) equals the stage's
    /// hash of its last layer at that position. So the next stage's input is bound to this stage's signed part, and a
    /// dispute at the next stage's first layer blames the right stage (docs/pipeline.md, "Signed stage parts").
    /// </summary>
    private void CheckActivations(PipelineStage stage, StageStepReply reply, int width)
    {
        int rows = _input.Length;
        if (reply.Activations.Length % (rows * sizeof(float)) != 0 || reply.Activations.Length == 0)
            throw new StageFault(stage, $"{reply.Activations.Length} activation bytes for {rows} rows", misbehaved: true);
        int dim = reply.Activations.Length / (rows * sizeof(float));
        var floats = new float[dim];
        Span<byte> digest = stackalloc byte[32];
        for (int r = 0; r < rows; r++)
        {
            MemoryMarshal.Cast<byte, float>(reply.Activations.Span.Slice(r * dim * sizeof(float), dim * sizeof(float))).CopyTo(floats);
            SHA256.HashData(CanonicalFloats.Bytes(floats), digest);
            if (!digest.SequenceEqual(reply.LayerHashes[r * width + width - 1].Span))
                throw new StageFault(stage, $"the activations of row {_position + r} do not hash to the stage's hash of layer {stage.End - 1}", misbehaved: true);
        }
    }

    /// <summary>The assembled trace the parts of <see cref="SignedParts"/> were checked against (null before).</summary>
    public Hash256[][]? SignedTrace { get; private set; }

    /// <summary>The trace assembled so far: [step][layer] over every layer of the model.</summary>
    public Hash256[][] AssembledTrace()
    {
        var trace = new Hash256[_trace.Steps][];
        for (int s = 0; s < trace.Length; s++)
        {
            trace[s] = new Hash256[layers];
            for (int l = 0; l < layers; l++) trace[s][l] = new Hash256(_trace.LayerHash(s, l)!);
        }
        return trace;
    }

    /// <summary>
    /// Closes the current chain's sessions asking each stage for its signed part of the trace, and checks every part
    /// against what the gateway assembled: signed by the stage's provider, this request and model, the stage's layer range,
    /// the number of steps, the Merkle root over exactly the hashes the stage reported, and (last stage) the tokens it
    /// sampled. A part that fails is the stage's fault (<see cref="StageFault.Misbehaved"/>).
    /// </summary>
    public async Task<StagePart[]> SignedParts(CancellationToken cancel)
    {
        var trace = SignedTrace = AssembledTrace();
        var requestHash = request.Hash();
        var parts = new StagePart[_chain.Count];
        var close = new StageCloseRequest { SessionId = SessionId, SignPart = true };
        for (int i = 0; i < _chain.Count; i++)
        {
            var stage = _chain[i];
            var reply = await Call(stage, s => s.Client.CloseAsync(close, deadline: Deadline, cancellationToken: cancel).ResponseAsync, cancel);
            if (!StagePart.TryDecode(reply.Part.Span, out var part, out var malformed)) throw new StageFault(stage, $"its stage part is malformed: {malformed}", misbehaved: true);
            parts[i] = part!;
            if (PartProblem(stage, part!, trace, requestHash) is { } problem) throw new StageFault(stage, $"its signed stage part is refused: {problem}", misbehaved: true);
        }
        return parts;
    }

    private string? PartProblem(PipelineStage stage, StagePart part, Hash256[][] trace, Hash256 requestHash)
    {
        if (part.Verify() is { IsValid: false } bad) return bad.ToString();
        if (!Address.TryParse(stage.Provider.Id, out var provider, out _) || part.Provider != provider) return $"it names provider {part.Provider}, the stage is {stage.Provider.Id}";
        if (part.RequestHash != requestHash || part.ModelHash != request.ModelHash) return "it names another request or model";
        if (part.FirstLayer != stage.Start || part.EndLayer != stage.End || part.LayerCount != layers)
            return $"it covers layers [{part.FirstLayer}, {part.EndLayer}) of {part.LayerCount}, the stage served [{stage.Start}, {stage.End}) of {layers}";
        if (part.Steps != trace.Length) return $"it counts {part.Steps} steps, the trace has {trace.Length}";
        if (part.PartRoot != StagePart.RootOf(trace, stage.Start, stage.End)) return "its part root is not the root of the layer hashes it reported";
        if (part.IsLast ? !part.Tokens.SequenceEqual(Generated) : part.Tokens.Count != 0) return "its tokens are not the tokens it returned";
        return null;
    }

    private static async Task<T> Call<T>(PipelineStage stage, Func<PipelineStage, Task<T>> call, CancellationToken cancel)
    {
        try
        {
            return await call(stage);
        }
        catch (RpcException e) when (!cancel.IsCancellationRequested)
        {
            throw new StageFault(stage, e.Status.Detail.Length > 0 ? $"{e.StatusCode}: {e.Status.Detail}" : e.StatusCode.ToString(), invalid: e.StatusCode == StatusCode.InvalidArgument);
        }
    }
}

/// <summary>A failed stage call: the stage is replaced (failover), unless the request itself was refused as invalid.</summary>
public sealed class StageFault(PipelineStage stage, string message, bool misbehaved = false, bool invalid = false) : Exception(message)
{
    public PipelineStage Stage { get; } = stage;
    public bool Misbehaved { get; } = misbehaved;
    public bool Invalid { get; } = invalid;
}
