using System.CommandLine;
using Cairn.Protocol.Messages;

namespace Cairn.Cli.Commands;

/// <summary>
/// <c>cairn adapter publish FILE --base MODEL.gguf …</c>, <c>list</c> and <c>show</c>: LoRA adapters in the contributions
/// registry (docs/contributions.md). Publication first checks that the adapter's tensors fit the base model's
/// (<see cref="AdapterShapeCheck"/>); the base model must already be registered.
/// </summary>
internal static class AdapterCommand
{
    public static Command Create() => new("adapter", "Register LoRA adapters for a registered base model; list and show them")
    {
        CreatePublish(),
        ContributionCommands.CreateList("adapter", ContributionKind.Adapter),
        ContributionCommands.CreateShow("adapter", ContributionKind.Adapter),
    };

    private static Command CreatePublish()
    {
        var o = ContributionCommands.NewPublishOptions("The adapter's GGUF file (llama.cpp's LoRA format)");
        var baseModel = new Option<string>("--base") { Description = "The base model's GGUF file: the adapter's tensors are checked against it and it must be registered", Required = true };
        var command = new Command("publish", "Check an adapter against its base model, sign it and register it: every fee of a request using it pays its author the royalty") { baseModel };
        ContributionCommands.AddTo(command, o);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            string file = parse.GetRequiredValue(o.File), basePath = parse.GetRequiredValue(baseModel);
            using (var adapter = ContributionCommands.OpenGguf(file, "adapter"))
            using (var model = ContributionCommands.OpenGguf(basePath, "base model"))
            {
                if (AdapterShapeCheck.Problem(adapter, model) is { } problem) throw new ArgumentException($"the adapter does not fit the base model: {problem}; nothing was registered");
            }
            return ContributionCommands.Publish(parse, o, ContributionKind.Adapter, file, ContributionCommands.Sha256(basePath));
        }));
        return command;
    }
}
