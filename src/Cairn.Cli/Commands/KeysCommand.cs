using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using Cairn.Protocol.Identity;

namespace Cairn.Cli.Commands;

/// <summary>
/// <c>cairn keys new [--out FILE] [--passphrase-env VAR]</c> and <c>cairn keys show FILE [--reveal] [--passphrase-env VAR]</c>:
/// secp256k1 identities in passphrase-encrypted key files (Cairn.Protocol's <see cref="KeyFile"/>).
/// Standard output carries only the address (and, with <c>--reveal</c>, the private key) so scripts can use it.
/// </summary>
internal static class KeysCommand
{
    public const string DefaultFile = "cairn-key.json";

    public static Command Create() => new("keys", "Create and inspect encrypted identity key files (secp256k1, Ethereum-style addresses)")
    {
        CreateNew(),
        CreateShow(),
    };

    private static Command CreateNew()
    {
        var output = new Option<FileInfo>("--out", "-o") { Description = $"Key file to write (never overwritten)", DefaultValueFactory = _ => new FileInfo(DefaultFile) };
        var passphraseEnv = PassphraseEnvOption();
        var command = new Command("new", "Generate a key and write it encrypted with a passphrase; prints the address") { output, passphraseEnv };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            string path = parse.GetValue(output)!.FullName;
            if (File.Exists(path) || Directory.Exists(path)) throw new IOException($"{path} already exists; refusing to overwrite a key file");
            string passphrase = Passphrase(parse.GetValue(passphraseEnv), confirm: true);
            using var rng = RandomNumberGenerator.Create();
            using var key = Secp256k1Key.Generate(rng);
            KeyFile.Save(path, key, passphrase, rng);
            Console.Out.WriteLine(key.Address);
            Console.Error.WriteLine($"wrote {path}; keep the passphrase safe: without it the key cannot be recovered");
            return 0;
        }));
        return command;
    }

    private static Command CreateShow()
    {
        var file = new Argument<FileInfo>("file") { Description = "A key file written by `cairn keys new`" };
        var reveal = new Option<bool>("--reveal") { Description = "Also print the private key (needs the passphrase)" };
        var passphraseEnv = PassphraseEnvOption();
        var command = new Command("show", "Print a key file's address; with a passphrase, also check that it opens") { file, reveal, passphraseEnv };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            string path = parse.GetRequiredValue(file).FullName;
            if (!File.Exists(path)) throw new FileNotFoundException($"key file {path} not found", path);
            string? env = parse.GetValue(passphraseEnv);
            bool revealKey = parse.GetValue(reveal);
            if (!revealKey && env is null)
            {
                Console.Out.WriteLine(KeyFile.LoadAddress(path));
                return 0;
            }
            using var key = KeyFile.Load(path, Passphrase(env, confirm: false));
            Console.Out.WriteLine(key.Address);
            if (revealKey)
            {
                byte[] secret = key.ExportPrivateKey();
                Console.Out.WriteLine("0x" + Convert.ToHexStringLower(secret));
                CryptographicOperations.ZeroMemory(secret);
                Console.Error.WriteLine("warning: the second line is the private key; anyone who sees it controls this identity");
            }
            return 0;
        }));
        return command;
    }

    private static Option<string> PassphraseEnvOption() =>
        new("--passphrase-env") { Description = "Read the passphrase from this environment variable instead of asking on the terminal" };

    internal static string Passphrase(string? environmentVariable, bool confirm)
    {
        if (environmentVariable is not null)
        {
            string? value = Environment.GetEnvironmentVariable(environmentVariable);
            if (value is null) throw new ArgumentException($"--passphrase-env {environmentVariable}: the environment variable is not set");
            if (value.Length == 0) throw new ArgumentException($"--passphrase-env {environmentVariable}: the passphrase is empty");
            return value;
        }
        if (Console.IsInputRedirected) throw new InvalidOperationException("no terminal to ask for a passphrase on; use --passphrase-env VAR");
        string first = Prompt("passphrase: ");
        if (first.Length == 0) throw new ArgumentException("the passphrase is empty");
        if (confirm && Prompt("repeat passphrase: ") != first) throw new ArgumentException("the passphrases differ");
        return first;
    }

    private static string Prompt(string label)
    {
        Console.Error.Write(label);
        var text = new StringBuilder();
        while (true)
        {
            var k = Console.ReadKey(intercept: true);
            if (k.Key == ConsoleKey.Enter) break;
            if (k.Key == ConsoleKey.Backspace)
            {
                if (text.Length > 0) text.Length--;
            }
            else if (!char.IsControl(k.KeyChar))
            {
                text.Append(k.KeyChar);
            }
        }
        Console.Error.WriteLine();
        return text.ToString();
    }
}
