using System.Security.Cryptography;
using Cairn.Engine.Gguf;
using Cairn.Engine.Tensors;
using Cairn.Ledger.Storage;
using Cairn.Ledger.Tests.TestSupport;
using Cairn.Protocol.Identity;

namespace Cairn.Ledger.Tests.Cli;

/// <summary><c>cairn model</c> and <c>cairn adapter</c> as a user runs them (the real command tree in a child process).</summary>
public sealed class ContributionCommandTests : IDisposable
{
    private const string PassphraseVariable = "CAIRN_TEST_REGISTRY_PASSPHRASE";
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-registry-cli-").FullName;
    private readonly string _ledger;
    private readonly string _ownerKey, _strangerKey;
    private readonly Address _owner, _stranger;

    public ContributionCommandTests()
    {
        Environment.SetEnvironmentVariable(PassphraseVariable, "registry test passphrase");
        _ledger = Path.Combine(_dir, "ledger.db");
        (_ownerKey, _owner) = NewKey("owner.key");
        (_strangerKey, _stranger) = NewKey("stranger.key");
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private (string Path, Address Address) NewKey(string name)
    {
        string path = Path.Combine(_dir, name);
        using var key = Secp256k1Key.Generate(RandomNumberGenerator.Create());
        KeyFile.Save(path, key, "registry test passphrase", RandomNumberGenerator.Create(), iterations: 1_000);
        return (path, key.Address);
    }

    /// <summary>A base model's tensor table: attn_q [dim, dim] and ffn_down [hidden, dim] (ggml order: [in, out]).</summary>
    private string Model(string name, int dim, int hidden = 16)
    {
        string path = Path.Combine(_dir, name);
        new GgufWriter().Set("general.architecture", "llama").Set("general.name", name)
            .AddTensor("blk.0.attn_q.weight", GgmlType.F32, [dim, dim], new byte[4 * dim * dim])
            .AddTensor("blk.0.ffn_down.weight", GgmlType.F32, [hidden, dim], new byte[4 * hidden * dim])
            .Write(path);
        return path;
    }

    /// <summary>A LoRA adapter in llama.cpp's layout: for each (target, in, out, rank), target.lora_a [in, r] and .lora_b [r, out].</summary>
    private string Adapter(string name, params (string Target, int In, int Out, int Rank)[] pairs)
    {
        string path = Path.Combine(_dir, name);
        var w = new GgufWriter().Set("general.architecture", "llama").Set("general.type", "adapter").Set("adapter.type", "lora").Set("adapter.lora.alpha", 16f);
        foreach (var (target, input, output, rank) in pairs)
        {
            w.AddTensor(target + ".lora_a", GgmlType.F32, [input, rank], new byte[4 * input * rank]);
            w.AddTensor(target + ".lora_b", GgmlType.F32, [rank, output], new byte[4 * rank * output]);
        }
        w.Write(path);
        return path;
    }

    private ChildProcess.Result Cairn(params string[] args) => ChildProcess.Run([.. args, "--sqlite", _ledger]);

    private ChildProcess.Result Publish(string what, string file, string key, params string[] extra) =>
        Cairn([what, "publish", file, .. extra.Contains("--royalty-bps") ? [] : (string[])["--royalty-bps", "250"], "--license", "Apache-2.0", "--payout", _owner.ToString(), "--key", key, "--passphrase-env", PassphraseVariable, .. extra]);

    private int Registered()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        using var store = new SqliteLedgerStore(_ledger);
        return store.ReadContributions().Count;
    }

    [Fact]
    public void A_model_and_its_adapter_are_published_listed_and_shown_and_the_ledger_verifies()
    {
        string model = Model("base.gguf", 8);
        string adapter = Adapter("poetry.gguf", ("blk.0.attn_q.weight", 8, 8, 2), ("blk.0.ffn_down.weight", 16, 8, 2));
        var m = Publish("model", model, _ownerKey, "--name", "base-8");
        Assert.True(m.ExitCode == 0, m.StdErr);
        Assert.Contains("registered model:base-8", m.StdOut);
        var a = Publish("adapter", adapter, _ownerKey, "--base", model, "--private", "--allow", $"{_stranger},{_owner}");
        Assert.True(a.ExitCode == 0, a.StdErr);
        Assert.Contains("registered adapter:poetry", a.StdOut);
        Assert.Contains("already registered", Publish("model", model, _ownerKey, "--name", "base-8").StdOut);

        var models = Cairn("model", "list");
        Assert.Contains("base-8", models.StdOut);
        Assert.Contains("1 models", models.StdOut);
        var adapters = Cairn("adapter", "list");
        Assert.Contains("poetry", adapters.StdOut);
        Assert.Contains("private", adapters.StdOut);
        string sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(adapter)));
        foreach (string key in (string[])["poetry", sha, "0x" + sha])
        {
            var shown = Cairn("adapter", "show", key);
            Assert.True(shown.ExitCode == 0, shown.StdErr);
            Assert.Contains($"file sha256  {sha}", shown.StdOut);
            Assert.Contains("base model   " + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(model))), shown.StdOut);
            Assert.Contains("royalty      250 bps", shown.StdOut);
            Assert.Contains($"payout       royalty:{_owner}", shown.StdOut);
        }
        Assert.Equal(2, Registered());
        var verify = Cairn("ledger", "verify");
        Assert.True(verify.ExitCode == 0, verify.StdErr);
    }

    [Fact]
    public void Each_bad_publication_is_one_clear_line_exit_code_2_and_nothing_registered()
    {
        string model = Model("base.gguf", 8);
        string otherModel = Model("other.gguf", 12);
        Assert.Equal(0, Publish("model", model, _ownerKey).ExitCode);
        Assert.Equal(0, Publish("model", otherModel, _ownerKey).ExitCode);
        string unregistered = Model("unregistered.gguf", 8, hidden: 16);
        File.AppendAllText(unregistered, " "); // same shapes, another file
        string adapter = Adapter("lora.gguf", ("blk.0.attn_q.weight", 8, 8, 4));

        void Refused(ChildProcess.Result r, string expected)
        {
            Assert.True(r.ExitCode == 2, $"exit {r.ExitCode}: {r.StdOut}{r.StdErr}");
            Assert.Contains(expected, r.StdErr);
            Assert.Single(r.StdErr.Trim().Split('\n'));
            Assert.Equal(2, Registered());
        }

        Refused(Publish("adapter", adapter, _ownerKey, "--base", otherModel), "the adapter does not fit the base model: blk.0.attn_q.weight.lora_a has shape [8, 4]: its input dimension 8 is not the base tensor's 12");
        Refused(Publish("adapter", adapter, _ownerKey, "--base", unregistered), "unknown_base_model");
        Refused(Publish("adapter", Adapter("wide.gguf", ("blk.0.ffn_down.weight", 16, 9, 2)), _ownerKey, "--base", model), "its output dimension 9 is not the base tensor's 8");
        Refused(Publish("adapter", RankMismatch("ranks.gguf"), _ownerKey, "--base", model), "disagree on the rank");
        Refused(Publish("adapter", Adapter("ghost.gguf", ("blk.7.attn_q.weight", 8, 8, 2)), _ownerKey, "--base", model), "adapts blk.7.attn_q.weight, which the base model does not have");
        Refused(Publish("adapter", model, _ownerKey, "--base", model, "--name", "not-an-adapter"), "is not an adapter");
        Refused(Publish("model", Model("greedy.gguf", 4), _ownerKey, "--royalty-bps", "10001"), "royalty_bps is 10001; it must be 0 to 10000");
        Refused(Publish("model", Model("forged.gguf", 4), _strangerKey, "--publisher", _owner.ToString()), $"wrong_publisher: ContributionEntry was signed by {_stranger}, not by its publisher {_owner}");
        Refused(Publish("model", Model("private.gguf", 4), _ownerKey, "--private"), "a private contribution must allow at least one provider");
        Refused(Cairn("adapter", "show", "no-such-adapter"), "unknown adapter \"no-such-adapter\"");
        Refused(Cairn("adapter", "show", "base"), "unknown adapter \"base\"");
        var verify = Cairn("ledger", "verify");
        Assert.True(verify.ExitCode == 0, verify.StdErr);
    }

    /// <summary>An adapter whose lora_b's rank differs from its lora_a's.</summary>
    private string RankMismatch(string name)
    {
        string path = Path.Combine(_dir, name);
        new GgufWriter().Set("general.type", "adapter").Set("adapter.type", "lora").Set("adapter.lora.alpha", 16f)
            .AddTensor("blk.0.attn_q.weight.lora_a", GgmlType.F32, [8, 2], new byte[4 * 8 * 2])
            .AddTensor("blk.0.attn_q.weight.lora_b", GgmlType.F32, [3, 8], new byte[4 * 3 * 8])
            .Write(path);
        return path;
    }
}
