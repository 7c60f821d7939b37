using System.CommandLine;
using Cairn.Cli.Commands;

namespace Cairn.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("Cairn: a decentralized inference network with a bit-exact engine.")
        {
            RunCommand.Create(),
            InspectCommand.Create(),
            SynthesizeCommand.Create(),
            BenchCommand.Create(),
            FingerprintCommand.Create(),
            KeysCommand.Create(),
            DevnetCommand.Create(),
            GatewayCommand.Create(),
            NodeCommand.Create(),
            LoadCommand.Create(),
            LedgerCommand.Create(),
            ModelCommand.Create(),
            AdapterCommand.Create(),
            PospCommand.Create(),
            VerifyCommand.Create(),
            PlanCommand.Create(),
            PipelineCommand.Create(),
        };
        var parse = root.Parse(args);
        int code = parse.Invoke();
        return parse.Errors.Count > 0 ? 2 : code; // a malformed command line exits like every other bad argument

    }
}
