using System.CommandLine;
using Cairn.Cli.Commands;
using Cairn.Ledger.Economics;
using Cairn.Ledger.Storage;
using Cairn.Protocol.Crypto;

namespace Cairn.Ledger.Tests.TestSupport;

/// <summary>
/// This test assembly's entry point, used only when a test runs it as a child process
/// (<c>dotnet exec Cairn.Ledger.Tests.dll …</c>): <c>ledger …</c> is the real <c>cairn ledger</c> command tree, so crash
/// and CLI tests exercise the shipped command without depending on the CLI's Program.cs; <c>race</c> is the
/// concurrency tests' worker. The test host never calls it.
/// </summary>
public static class ChildProgram
{
    public static int Main(string[] args)
    {
        if (args is ["race", string backend, string target, string worker, string attempts, string amount])
            return Race(backend == "--postgres" ? new PostgresLedgerStore(target) : new SqliteLedgerStore(target), worker, int.Parse(attempts), long.Parse(amount));
        var root = new RootCommand("cairn (ledger test child)") { LedgerCommand.Create(), ModelCommand.Create(), AdapterCommand.Create() };
        return root.Parse(args).Invoke();
    }

    /// <summary>Tries <paramref name="attempts"/> hold → settle pairs for the one shared client; prints "settled ID" or "refused CODE" for each.</summary>
    private static int Race(ILedgerStore store, string worker, int attempts, long amount)
    {
        using var _ = store;
        var book = new LedgerBook(store);
        var client = Simulation.LedgerWorkload.Party(1);
        var parties = new SettlementParties(Simulation.LedgerWorkload.Party(2), Simulation.LedgerWorkload.Party(3));
        for (int i = 0; i < attempts; i++)
        {
            string id = $"{worker}-{i}";
            var auth = Keccak256.Hash(System.Text.Encoding.ASCII.GetBytes(id));
            var held = book.Hold(id, client, amount, auth);
            if (!held.IsOk)
            {
                Console.Out.WriteLine($"refused {held.Code}");
                continue;
            }
            var settled = book.Settle(id, amount, parties, auth);
            Console.Out.WriteLine(settled.IsOk ? $"settled {id}" : $"failed {settled}");
        }
        return 0;
    }
}
