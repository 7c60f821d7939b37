using System.CommandLine;
using Cairn.Cli.Commands;

namespace Cairn.Ledger.Tests.TestSupport;

/// <summary>
/// This test assembly's entry point, used only when a test runs it as a child process
/// (<c>dotnet exec Cairn.Ledger.Tests.dll ledger …</c>): the real <c>cairn ledger</c> command tree, so crash, concurrency
/// and CLI tests exercise the shipped command without depending on the CLI's Program.cs. The test host never calls it.
/// </summary>
public static class ChildProgram
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("cairn (ledger test child)") { LedgerCommand.Create() };
        return root.Parse(args).Invoke();
    }
}
