using System.CommandLine;
using System.Data.Common;
using System.Globalization;
using Cairn.Ledger;
using Cairn.Ledger.Simulation;
using Cairn.Ledger.Storage;
using Cairn.Ledger.Verification;

namespace Cairn.Cli.Commands;

/// <summary>
/// <c>cairn ledger verify</c> and <c>cairn ledger statement</c> (docs/ledger.md), plus two hidden tools:
/// <c>ledger apply-stream</c> (the crash-safety tests' child process) and <c>ledger bench</c> (settlements per second).
/// The store is one of <c>--data DIR</c> (the folder <c>cairn devnet --data</c> uses: DIR/gateway/ledger.db),
/// <c>--sqlite FILE</c> or <c>--postgres CONNSTRING</c>.
/// </summary>
internal static class LedgerCommand
{
    internal sealed record StoreOptions(Option<string?> Data, Option<string?> Sqlite, Option<string?> Postgres);

    public static Command Create() => new("ledger", "Audit the ledger: recompute balances and the hash chain, print account statements")
    {
        CreateVerify(),
        CreateStatement(),
        CreateAudit(),
        CreateApplyStream(),
        CreateBench(),
    };

    internal static StoreOptions NewStoreOptions() => new(
        new Option<string?>("--data") { Description = "A devnet data folder (as for `cairn devnet --data`); its ledger is DIR/gateway/ledger.db" },
        new Option<string?>("--sqlite") { Description = "A SQLite ledger file" },
        new Option<string?>("--postgres") { Description = "A PostgreSQL connection string (e.g. \"Host=127.0.0.1;Username=cairn;Database=cairn\")" });

    internal static void AddTo(Command command, StoreOptions o)
    {
        command.Options.Add(o.Data);
        command.Options.Add(o.Sqlite);
        command.Options.Add(o.Postgres);
    }

    internal static ILedgerStore Open(ParseResult parse, StoreOptions o, bool mustExist)
    {
        string? data = parse.GetValue(o.Data), sqlite = parse.GetValue(o.Sqlite), postgres = parse.GetValue(o.Postgres);
        int given = (data is null ? 0 : 1) + (sqlite is null ? 0 : 1) + (postgres is null ? 0 : 1);
        if (given != 1) throw new ArgumentException("name exactly one ledger: --data DIR, --sqlite FILE or --postgres CONNSTRING");
        try
        {
            if (postgres is not null) return new PostgresLedgerStore(postgres);
            string path = sqlite ?? Path.Combine(data!, "gateway", SqliteLedgerStore.FileName);
            return mustExist ? SqliteLedgerStore.OpenExisting(path) : new SqliteLedgerStore(path);
        }
        catch (DbException e)
        {
            throw new InvalidOperationException($"cannot open the ledger: {e.Message}", e);
        }
    }

    private static Command CreateVerify()
    {
        var store = NewStoreOptions();
        var command = new Command("verify", "Recompute every balance, hold, epoch root and the hash chain from the journal; exit 1 at the first inconsistency");
        AddTo(command, store);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            using var ledger = Open(parse, store, mustExist: true);
            var report = LedgerVerifier.Verify(ledger);
            if (report.IsConsistent)
            {
                Console.Out.WriteLine($"{ledger.Description}: {report}");
                return 0;
            }
            Console.Error.WriteLine($"cairn: ledger {ledger.Description} is inconsistent: {report.FirstProblem}");
            return 1;
        }));
        return command;
    }

    private static Command CreateStatement()
    {
        var store = NewStoreOptions();
        var account = new Argument<string>("account") { Description = "An account, e.g. client:0x…, provider-earnings:0x…, treasury" };
        var epoch = new Option<long>("--epoch") { Description = "The epoch (0 is the first)", Required = true };
        var command = new Command("statement", "List every entry of one epoch behind an account's balance, with opening and closing balances") { account, epoch };
        AddTo(command, store);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            using var s = Open(parse, store, mustExist: true);
            var result = new LedgerBook(s).TryGetStatement(parse.GetRequiredValue(account), parse.GetValue(epoch), out var statement);
            if (!result.IsOk) throw new ArgumentException($"{result.Code}: {result.Message}");
            var st = statement!;
            var o = Console.Out;
            o.WriteLine($"account {st.Account}  epoch {st.Epoch} ({(st.EpochClosed ? "closed" : "open")})");
            o.WriteLine($"opening balance {st.Opening}");
            o.WriteLine($"{"seq",8}  {"kind",-15} {"amount",14} {"balance",14}  entry id / authorization (settlements: receipt / hold = request)");
            foreach (var l in st.Lines)
                o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{l.Sequence,8}  {l.Kind,-15} {l.Amount,14} {l.Balance,14}  {l.EntryId} / {l.Authorization}{(l.Kind == Cairn.Ledger.Journal.EntryKind.Settle ? " / hold " + l.Reference : "")}"));
            o.WriteLine($"closing balance {st.Closing}  ({st.Lines.Count} entries)");
            return 0;
        }));
        return command;
    }

    private static Command CreateAudit()
    {
        var store = NewStoreOptions();
        var command = new Command("audit",
            "Re-run every Proof of Sampling draw of every epoch whose secret is revealed: the challenged receipts must be exactly those the secret draws; exit 1 otherwise");
        AddTo(command, store);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            using var s = Open(parse, store, mustExist: true);
            var audit = new LedgerBook(s).AuditDraws();
            var o = Console.Out;
            foreach (var e in audit.Epochs)
            {
                o.WriteLine($"epoch {e.Epoch}: challenge rate {e.ChallengeRate}, commitment {e.Commitment}, " +
                    (e.Secret is { } secret ? $"revealed secret {secret}" : "secret not revealed yet (its draws cannot be audited)"));
            }
            foreach (var d in audit.Discrepancies) o.WriteLine($"UNFAIR epoch {d.Epoch} receipt {d.Receipt}: {d.Problem}");
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{audit.ReceiptsChecked} settled receipts in revealed epochs, {audit.Challenged} drawn for a challenge, {audit.Discrepancies.Count} discrepancies: {(audit.IsFair ? "the draws were fair" : "the draws were NOT fair")}"));
            return audit.IsFair ? 0 : 1;
        }));
        return command;
    }

    private static Command CreateApplyStream()
    {
        var store = NewStoreOptions();
        var seed = new Option<int>("--seed") { Required = true };
        var count = new Option<long>("--count") { Required = true };
        var command = new Command("apply-stream", "Apply the deterministic workload stream, resuming after its last entry; print \"ack ID SEQ\" after each commit") { Hidden = true };
        command.Options.Add(seed);
        command.Options.Add(count);
        AddTo(command, store);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            using var s = Open(parse, store, mustExist: false);
            var ledger = new LedgerBook(s);
            var workload = new LedgerWorkload(parse.GetValue(seed));
            using var stdout = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
            long n = parse.GetValue(count), start = workload.ResumeIndex(s);
            Console.Error.WriteLine($"resuming at operation {start}");
            for (long i = start; i < n; i++)
            {
                var (id, result) = workload.Apply(ledger, i);
                if (result.IsOk) stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ack {id} {result.Sequence}"));
            }
            stdout.WriteLine("done");
            return 0;
        }));
        return command;
    }

    private static Command CreateBench()
    {
        var store = NewStoreOptions();
        var settlements = new Option<int>("--settlements") { DefaultValueFactory = _ => 2000 };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => 1 };
        var command = new Command("bench", "Measure hold+settle pairs per second against a ledger (writes benchmark entries into it)") { Hidden = true };
        command.Options.Add(settlements);
        command.Options.Add(threads);
        AddTo(command, store);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            using var s = Open(parse, store, mustExist: false);
            int n = parse.GetValue(settlements), t = parse.GetValue(threads);
            if (n < 1 || t < 1 || t > 256) throw new ArgumentException("--settlements ≥ 1 and --threads 1 to 256");
            var figures = LedgerBenchmark.Run(s, n, t, Guid.NewGuid().ToString("N")[..12]);
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{s.Description}: {figures.Settlements} settlements (hold + settle) on {figures.Threads} thread(s) in {figures.Elapsed.TotalSeconds:F2} s = {figures.PerSecond:F0} settlements/s"));
            return 0;
        }));
        return command;
    }
}
