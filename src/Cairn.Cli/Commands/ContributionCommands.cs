using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using Cairn.Engine.Gguf;
using Cairn.Ledger;
using Cairn.Ledger.Storage;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Messages;

namespace Cairn.Cli.Commands;

/// <summary>
/// What <c>cairn model</c> and <c>cairn adapter</c> share (docs/contributions.md): the publication options, building and
/// signing a <see cref="ContributionEntry"/> from them, registering it in the ledger, and printing entries. Every bad
/// input is an <see cref="ArgumentException"/> (one line, exit 2) raised before anything is written.
/// </summary>
internal static class ContributionCommands
{
    internal sealed record PublishOptions(Argument<string> File, Option<int> RoyaltyBps, Option<string> License, Option<string> Payout, Option<string> Key,
        Option<string?> PassphraseEnv, Option<string?> Name, Option<bool> Private, Option<string?> Allow, Option<string?> Publisher, LedgerCommand.StoreOptions Store);

    public static PublishOptions NewPublishOptions(string fileDescription) => new(
        new Argument<string>("file") { Description = fileDescription },
        new Option<int>("--royalty-bps") { Description = "Royalty in basis points of every fee that uses it (0 to 10,000; together with the network's shares at most 9,000)", Required = true },
        new Option<string>("--license") { Description = "License string (at most 256 bytes), e.g. Apache-2.0", Required = true },
        new Option<string>("--payout") { Description = "Address royalties are credited to (account royalty:<address>)", Required = true },
        new Option<string>("--key") { Description = "The publisher's key file (cairn keys new); it signs the entry", Required = true },
        new Option<string?>("--passphrase-env") { Description = "Read the key file's passphrase from this environment variable" },
        new Option<string?>("--name") { Description = "Registry name (1-64 of A-Z a-z 0-9 . _ -); default: the file name without .gguf" },
        new Option<bool>("--private") { Description = "Only the providers named by --allow may serve it" },
        new Option<string?>("--allow") { Description = "Comma-separated provider addresses allowed to serve a --private contribution" },
        new Option<string?>("--publisher") { Description = "The publisher the entry names (default: the key's address); the ledger refuses an entry its publisher did not sign", Hidden = true },
        LedgerCommand.NewStoreOptions());

    public static void AddTo(Command command, PublishOptions o)
    {
        command.Arguments.Add(o.File);
        foreach (Option option in (Option[])[o.RoyaltyBps, o.License, o.Payout, o.Key, o.PassphraseEnv, o.Name, o.Private, o.Allow, o.Publisher]) command.Options.Add(option);
        LedgerCommand.AddTo(command, o.Store);
    }

    /// <summary>Builds, signs and registers the entry for <paramref name="file"/>; prints what was registered.</summary>
    public static int Publish(ParseResult parse, PublishOptions o, ContributionKind kind, string file, Hash256 baseModel)
    {
        var allowed = ParseAllowed(parse.GetValue(o.Allow));
        bool isPrivate = parse.GetValue(o.Private);
        if (!isPrivate && allowed.Count > 0) throw new ArgumentException("--allow names the providers of a --private contribution; add --private");
        if (!Address.TryParse(parse.GetRequiredValue(o.Payout), out var payout, out string? payoutError)) throw new ArgumentException($"--payout: {payoutError}");
        string passphrase = KeysCommand.Passphrase(parse.GetValue(o.PassphraseEnv), confirm: false);
        using var key = KeyFile.Load(parse.GetRequiredValue(o.Key), passphrase);
        var publisher = key.Address;
        if (parse.GetValue(o.Publisher) is { } named && !Address.TryParse(named, out publisher, out string? publisherError)) throw new ArgumentException($"--publisher: {publisherError}");
        var entry = new ContributionEntry
        {
            Kind = kind,
            Name = parse.GetValue(o.Name) ?? DefaultName(file),
            FileSha256 = Sha256(file),
            BaseModel = baseModel,
            RoyaltyBps = parse.GetValue(o.RoyaltyBps),
            License = parse.GetRequiredValue(o.License),
            Payout = payout,
            Publisher = publisher,
            Visibility = isPrivate ? ContributionVisibility.Private : ContributionVisibility.Public,
            AllowedProviders = allowed,
        };
        if (entry.Check() is { } problem) throw new ArgumentException(problem);
        var signed = entry.WithSignature(key.Sign(entry.Hash()));
        using var store = LedgerCommand.Open(parse, o.Store, mustExist: false);
        var result = new LedgerBook(store).Publish(signed);
        if (!result.IsOk) throw new ArgumentException($"{result.Code}: {result.Message}; nothing was registered");
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{(result.Replayed ? "already registered" : "registered")} {LedgerBook.PublicationReference(signed)} at #{result.Sequence}: file {signed.FileSha256}, entry {signed.Hash()}, royalty {signed.RoyaltyBps} bps to royalty:{signed.Payout}"));
        return 0;
    }

    /// <summary>SHA-256 of a file, streamed.</summary>
    public static Hash256 Sha256(string path)
    {
        using var stream = System.IO.File.OpenRead(path);
        return new Hash256(SHA256.HashData(stream));
    }

    private static string DefaultName(string file)
    {
        string stem = Path.GetFileNameWithoutExtension(file);
        var chars = stem.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-').Take(ContributionEntry.MaxNameLength).ToArray();
        return chars.Length == 0 ? "unnamed" : new string(chars);
    }

    private static List<Address> ParseAllowed(string? text)
    {
        var list = new List<Address>();
        foreach (string part in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Address.TryParse(part, out var a, out string? error)) throw new ArgumentException($"--allow: {error}");
            if (!list.Contains(a)) list.Add(a);
        }
        if (list.Count > ContributionEntry.MaxAllowedProviders) throw new ArgumentException($"--allow names {list.Count} providers; at most {ContributionEntry.MaxAllowedProviders} are allowed");
        list.Sort(ContributionEntry.Compare);
        return list;
    }

    /// <summary>Opens a GGUF file, turning a format error into one clear line.</summary>
    public static GgufFile OpenGguf(string path, string role) =>
        System.IO.File.Exists(path) ? GgufFile.Open(path) : throw new ArgumentException($"{role} {path} does not exist");

    public static Command CreateList(string verb, ContributionKind kind)
    {
        var store = LedgerCommand.NewStoreOptions();
        var command = new Command("list", $"List the registered {verb}s");
        LedgerCommand.AddTo(command, store);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            using var s = LedgerCommand.Open(parse, store, mustExist: true);
            var entries = new LedgerBook(s).ListContributions(kind);
            Console.Out.WriteLine($"{"name",-24} {"royalty",8}  {"visibility",-10} {"file sha256",-64}  payout");
            foreach (var c in entries)
            {
                var e = c.Entry;
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{e.Name,-24} {e.RoyaltyBps,8}  {Visibility(e),-10} {e.FileSha256}  {e.Payout}"));
            }
            Console.Out.WriteLine($"{entries.Count} {verb}s");
            return 0;
        }));
        return command;
    }

    public static Command CreateShow(string verb, ContributionKind kind)
    {
        var store = LedgerCommand.NewStoreOptions();
        var key = new Argument<string>("hash-or-name") { Description = $"The {verb}'s name, file SHA-256 or entry hash" };
        var command = new Command("show", $"Show one registered {verb}") { key };
        LedgerCommand.AddTo(command, store);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            using var s = LedgerCommand.Open(parse, store, mustExist: true);
            string k = parse.GetRequiredValue(key);
            if (k.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) k = k[2..];
            var found = new LedgerBook(s).FindContribution(k, kind);
            if (found is null || found.Entry.Kind != kind) throw new ArgumentException($"unknown {verb} \"{parse.GetRequiredValue(key)}\": no registered {verb} has this name, file SHA-256 or entry hash");
            Print(found);
            return 0;
        }));
        return command;
    }

    private static string Visibility(ContributionEntry e) => e.Visibility == ContributionVisibility.Public ? "public" : "private";

    private static void Print(StoredContribution c)
    {
        var e = c.Entry;
        var o = Console.Out;
        o.WriteLine($"{LedgerBook.PublicationReference(e)}");
        o.WriteLine($"  entry        {c.Hash} (journal #{c.Sequence})");
        o.WriteLine($"  file sha256  {e.FileSha256}");
        if (e.Kind == ContributionKind.Adapter) o.WriteLine($"  base model   {e.BaseModel}");
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  royalty      {e.RoyaltyBps} bps"));
        o.WriteLine($"  license      {e.License}");
        o.WriteLine($"  payout       royalty:{e.Payout}");
        o.WriteLine($"  publisher    {e.Publisher}");
        o.WriteLine($"  visibility   {Visibility(e)}" + (e.AllowedProviders.Count > 0 ? ": " + string.Join(", ", e.AllowedProviders) : ""));
    }
}
