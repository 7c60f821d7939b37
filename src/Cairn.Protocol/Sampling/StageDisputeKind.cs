namespace Cairn.Protocol.Sampling;

/// <summary>What a pipeline stage got wrong (<see cref="StageDisputeEvidence"/>).</summary>
public enum StageDisputeKind : byte
{
    /// <summary>A layer hash that does not follow from the layer's inputs: the stage serving that layer.</summary>
    Layer = 1,
    /// <summary>A token (or an end) that the request's sampler does not give from the agreed last-layer output: the last stage.</summary>
    Token = 2,
}
