using Cairn.Node.Rpc;

namespace Cairn.Node.Gateway.Pipeline;

/// <summary>One stage of a chain: a provider serving layers [<see cref="Start"/>, <see cref="End"/>) of a model.</summary>
public sealed record PipelineStage(ProviderEntry Provider, ModelInfo Model)
{
    public int Start => Model.LayerStart;
    public int End => Model.LayerEnd;
    public Rpc.Stage.StageClient Client => new(Provider.Channel);
    public override string ToString() => $"{Provider.Id}[{Start}:{End})";
}
