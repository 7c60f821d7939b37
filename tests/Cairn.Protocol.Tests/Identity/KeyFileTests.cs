using System.Text.Json.Nodes;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Tests.TestSupport;

namespace Cairn.Protocol.Tests.Identity;

public sealed class KeyFileTests : IDisposable
{
    private const int FastIterations = 1000; // the default (600,000) is for real keys; tests only need the format
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-keyfile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Secp256k1Key TestKey() => Secp256k1Key.FromPrivateKey(Convert.FromHexString("4646464646464646464646464646464646464646464646464646464646464646"));

    [Fact]
    public void A_saved_key_loads_back_with_its_passphrase()
    {
        using var key = TestKey();
        string path = Path.Combine(_dir, "k.json");
        KeyFile.Save(path, key, "correct horse", new DeterministicRandom(1), FastIterations);
        using var loaded = KeyFile.Load(path, "correct horse");
        Assert.Equal(key.ExportPrivateKey(), loaded.ExportPrivateKey());
        Assert.Equal(key.Address, KeyFile.LoadAddress(path));
        string text = File.ReadAllText(path);
        Assert.Contains(key.Address.ToString(), text);
        Assert.DoesNotContain("46464646", text);
    }

    [Fact]
    public void The_default_iteration_count_is_at_least_200_thousand()
    {
        Assert.True(KeyFile.DefaultIterations >= 200_000);
        using var key = TestKey();
        var json = JsonNode.Parse(KeyFile.Encrypt(key, "p", new DeterministicRandom(1)))!;
        Assert.Equal(KeyFile.DefaultIterations, (int)json["kdf"]!["iterations"]!);
    }

    [Fact]
    public void A_key_file_is_private_to_its_owner_on_Unix()
    {
        if (OperatingSystem.IsWindows()) return;
        using var key = TestKey();
        string path = Path.Combine(_dir, "k.json");
        KeyFile.Save(path, key, "p", new DeterministicRandom(1), FastIterations);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void An_existing_file_is_never_overwritten()
    {
        using var key = TestKey();
        string path = Path.Combine(_dir, "k.json");
        File.WriteAllText(path, "precious");
        var e = Assert.Throws<IOException>(() => KeyFile.Save(path, key, "p", new DeterministicRandom(1), FastIterations));
        Assert.Contains("refusing to overwrite", e.Message);
        Assert.Equal("precious", File.ReadAllText(path));
    }

    [Fact]
    public void A_wrong_passphrase_is_reported_as_such()
    {
        using var key = TestKey();
        string json = KeyFile.Encrypt(key, "right", new DeterministicRandom(1), FastIterations);
        var e = Assert.Throws<KeyFileException>(() => KeyFile.Decrypt(json, "wrong"));
        Assert.Equal(KeyFileError.WrongPassphrase, e.Error);
        Assert.Contains("wrong passphrase", e.Message);
    }

    [Theory]
    [InlineData("ciphertext")]
    [InlineData("tag")]
    [InlineData("nonce")]
    public void A_tampered_field_is_reported_as_tampering(string field)
    {
        using var key = TestKey();
        var json = JsonNode.Parse(KeyFile.Encrypt(key, "p", new DeterministicRandom(1), FastIterations))!;
        JsonNode holder = field == "ciphertext" ? json : json["cipher"]!;
        holder[field] = FlipFirstDigit((string)holder[field]!);
        var e = Assert.Throws<KeyFileException>(() => KeyFile.Decrypt(json.ToJsonString(), "p"));
        Assert.Equal(KeyFileError.Tampered, e.Error);
        Assert.Contains("altered", e.Message);
    }

    [Fact]
    public void A_swapped_address_is_reported_as_tampering()
    {
        using var key = TestKey();
        var json = JsonNode.Parse(KeyFile.Encrypt(key, "p", new DeterministicRandom(1), FastIterations))!;
        json["address"] = "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf";
        Assert.Equal(KeyFileError.Tampered, Assert.Throws<KeyFileException>(() => KeyFile.Decrypt(json.ToJsonString(), "p")).Error);
    }

    [Theory]
    [InlineData("salt")]
    [InlineData("iterations")]
    [InlineData("check")]
    public void Altered_key_derivation_fields_fail_like_a_wrong_passphrase(string field)
    {
        using var key = TestKey();
        var json = JsonNode.Parse(KeyFile.Encrypt(key, "p", new DeterministicRandom(1), FastIterations))!;
        if (field == "salt") json["kdf"]!["salt"] = FlipFirstDigit((string)json["kdf"]!["salt"]!);
        else if (field == "iterations") json["kdf"]!["iterations"] = FastIterations + 1;
        else json["check"] = FlipFirstDigit((string)json["check"]!);
        Assert.Equal(KeyFileError.WrongPassphrase, Assert.Throws<KeyFileException>(() => KeyFile.Decrypt(json.ToJsonString(), "p")).Error);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("{\"format\":\"cairn-key\",\"version\":2}")]
    public void Something_that_is_not_a_key_file_is_malformed(string text)
    {
        var e = Assert.Throws<KeyFileException>(() => KeyFile.Decrypt(text, "p"));
        Assert.Equal(KeyFileError.Malformed, e.Error);
    }

    [Fact]
    public void Absurd_iteration_counts_are_refused_before_any_work()
    {
        using var key = TestKey();
        var json = JsonNode.Parse(KeyFile.Encrypt(key, "p", new DeterministicRandom(1), FastIterations))!;
        json["kdf"]!["iterations"] = int.MaxValue;
        var e = Assert.Throws<KeyFileException>(() => KeyFile.Decrypt(json.ToJsonString(), "p"));
        Assert.Equal(KeyFileError.Malformed, e.Error);
        Assert.Contains("iterations", e.Message);
    }

    private static string FlipFirstDigit(string hex) => (hex[0] == '0' ? '1' : '0') + hex[1..];
}
