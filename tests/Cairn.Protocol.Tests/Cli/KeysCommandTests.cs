using Cairn.Protocol.Identity;
using Cairn.Protocol.Tests.TestSupport;

namespace Cairn.Protocol.Tests.Cli;

public sealed class KeysCommandTests : IDisposable
{
    private const string Passphrase = "correct horse battery staple";
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-keys-cli-").FullName;
    private static readonly Dictionary<string, string> Env = new() { ["CAIRN_TEST_PASSPHRASE"] = Passphrase };

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Keys_new_writes_a_private_key_file_and_prints_its_address()
    {
        string path = Path.Combine(_dir, "key.json");
        var result = CairnProcess.Run(Env, "keys", "new", "--out", path, "--passphrase-env", "CAIRN_TEST_PASSPHRASE");
        Assert.True(result.ExitCode == 0, result.StdErr);
        var address = Address.Parse(result.StdOut.Trim(), requireChecksum: true);
        Assert.Equal(address, KeyFile.LoadAddress(path));
        using var key = KeyFile.Load(path, Passphrase);
        Assert.Equal(address, key.Address);
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));

        var show = CairnProcess.Run(null, "keys", "show", path);
        Assert.Equal(0, show.ExitCode);
        Assert.Equal(address.ToString(), show.StdOut.Trim());
        Assert.DoesNotContain(Convert.ToHexStringLower(key.ExportPrivateKey()), show.StdOut + show.StdErr);
    }

    [Fact]
    public void Keys_new_refuses_to_overwrite_an_existing_file()
    {
        string path = Path.Combine(_dir, "key.json");
        File.WriteAllText(path, "precious");
        var result = CairnProcess.Run(Env, "keys", "new", "--out", path, "--passphrase-env", "CAIRN_TEST_PASSPHRASE");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("refusing to overwrite", result.StdErr);
        Assert.Equal("precious", File.ReadAllText(path));
    }

    [Fact]
    public void Keys_new_without_a_terminal_or_variable_says_how_to_give_a_passphrase()
    {
        var result = CairnProcess.Run(null, "keys", "new", "--out", Path.Combine(_dir, "key.json"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--passphrase-env", result.StdErr);
        Assert.False(File.Exists(Path.Combine(_dir, "key.json")));

        var unset = CairnProcess.Run(null, "keys", "new", "--out", Path.Combine(_dir, "key.json"), "--passphrase-env", "CAIRN_TEST_SURELY_UNSET");
        Assert.Equal(2, unset.ExitCode);
        Assert.Contains("CAIRN_TEST_SURELY_UNSET", unset.StdErr);
    }

    [Fact]
    public void Keys_show_reveals_the_private_key_only_when_asked_and_with_the_right_passphrase()
    {
        string path = Path.Combine(_dir, "key.json");
        using (var key = Secp256k1Key.FromPrivateKey(Convert.FromHexString("4646464646464646464646464646464646464646464646464646464646464646")))
        {
            KeyFile.Save(path, key, Passphrase, System.Security.Cryptography.RandomNumberGenerator.Create(), iterations: 1000);
        }

        var plain = CairnProcess.Run(null, "keys", "show", path);
        Assert.Equal("0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F", plain.StdOut.Trim());

        var revealed = CairnProcess.Run(Env, "keys", "show", path, "--reveal", "--passphrase-env", "CAIRN_TEST_PASSPHRASE");
        Assert.Equal(0, revealed.ExitCode);
        Assert.Equal(["0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F", "0x4646464646464646464646464646464646464646464646464646464646464646"],
            revealed.StdOut.Trim().Split('\n'));
        Assert.Contains("private key", revealed.StdErr);

        var wrong = CairnProcess.Run(new Dictionary<string, string> { ["P"] = "nope" }, "keys", "show", path, "--reveal", "--passphrase-env", "P");
        Assert.Equal(2, wrong.ExitCode);
        Assert.Contains("wrong passphrase", wrong.StdErr);
        Assert.DoesNotContain("4646464646", wrong.StdOut + wrong.StdErr);
    }

    [Fact]
    public void Keys_show_reports_a_tampered_or_missing_file_clearly()
    {
        string path = Path.Combine(_dir, "key.json");
        using (var key = Secp256k1Key.FromPrivateKey(Convert.FromHexString("4646464646464646464646464646464646464646464646464646464646464646")))
        {
            KeyFile.Save(path, key, Passphrase, System.Security.Cryptography.RandomNumberGenerator.Create(), iterations: 1000);
        }
        string text = File.ReadAllText(path);
        int at = text.IndexOf("\"ciphertext\": \"", StringComparison.Ordinal) + 15;
        File.WriteAllText(path, text[..at] + (text[at] == '0' ? '1' : '0') + text[(at + 1)..]);
        var tampered = CairnProcess.Run(Env, "keys", "show", path, "--passphrase-env", "CAIRN_TEST_PASSPHRASE");
        Assert.Equal(2, tampered.ExitCode);
        Assert.Contains("altered", tampered.StdErr);

        var missing = CairnProcess.Run(null, "keys", "show", Path.Combine(_dir, "nope.json"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("not found", missing.StdErr);

        File.WriteAllText(path, "{\"hello\": 1}");
        var notKey = CairnProcess.Run(null, "keys", "show", path);
        Assert.Equal(2, notKey.ExitCode);
        Assert.Contains("not a Cairn key file", notKey.StdErr);
    }
}
