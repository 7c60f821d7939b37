using System.CommandLine;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Messages;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn model publish FILE …</c> and <c>cairn model list</c>: base models in the contributions registry (docs/contributions.md).</summary>
internal static class ModelCommand
{
    public static Command Create() => new("model", "Register base models with a royalty, license and payout account; list them")
    {
        CreatePublish(),
        ContributionCommands.CreateList("model", ContributionKind.Model),
        ContributionCommands.CreateShow("model", ContributionKind.Model),
    };

    private static Command CreatePublish()
    {
        var o = ContributionCommands.NewPublishOptions("The base model's GGUF file (its SHA-256 is what requests name)");
        var command = new Command("publish", "Sign and register a base model: every fee of a request on it pays its owner the royalty");
        ContributionCommands.AddTo(command, o);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            string file = parse.GetRequiredValue(o.File);
            using (var gguf = ContributionCommands.OpenGguf(file, "model"))
            {
                if (gguf.TryGetString("general.type") is "adapter") throw new ArgumentException($"{file} is an adapter (general.type = adapter); publish it with `cairn adapter publish --base MODEL.gguf`");
            }
            return ContributionCommands.Publish(parse, o, ContributionKind.Model, file, Hash256.Zero);
        }));
        return command;
    }
}
