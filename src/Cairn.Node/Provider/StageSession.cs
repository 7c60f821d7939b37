using Cairn.Engine.Inference;
using Cairn.Engine.Sampling;
using Cairn.Engine.Tokenization;
using Cairn.Protocol.Messages;

namespace Cairn.Node.Provider;

/// <summary>
/// One request's state on a pipeline stage: the KV cache of the stage's layers (with their layer hashes) and, on the last
/// stage, the sampler, the detokenizer and the stop strings. Steps of one session run one at a time.
/// </summary>
public sealed class StageSession(ServedModel model, InferenceRequest request, Session session)
{
    public ServedModel Model { get; } = model;
    public InferenceRequest Request { get; } = request;
    public Session Session { get; } = session;
    public SemaphoreSlim Gate { get; } = new(1, 1);
    /// <summary>Last stage only: the sampler, positioned after the prompt and the tokens generated so far.</summary>
    public Sampler? Sampler { get; init; }
    public StreamingDecoder? Decoder { get; init; }
    public StopMatcher? Stops { get; init; }
    /// <summary>Last stage only: the tokens sampled so far (restored on a replay).</summary>
    public List<int> Generated { get; } = [];
    /// <summary>Last stage only: the most tokens this request may generate (its max tokens, bounded by the context).</summary>
    public int MaxTokens { get; init; }
    public string? Finished { get; set; }
}
