using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Cairn.Ledger.Storage;
using Cairn.Node.Tests.TestSupport;
using Cairn.Protocol.Identity;

namespace Cairn.Node.Tests.Gateway;

/// <summary>
/// Issue 9: a private adapter is served only by the providers its author allowed. Both providers hold the adapter file
/// (the network never sends one), but once the author registers it as private for one of them, every request for it —
/// and every validation of such a request — goes to that one.
/// </summary>
public sealed class PrivateAdapterTests
{
    private const string PassphraseVariable = "CAIRN_TEST_PRIVATE_ADAPTER_PASSPHRASE";

    [Fact]
    public async Task A_private_adapter_is_routed_only_to_the_providers_its_author_allowed()
    {
        await using var net = await Devnet.StartWithGatewayArgsAsync(0, ["--challenge-rate", "1"]);
        string adapter = Path.Combine(net.DataDirectory, "tales-lora.gguf");
        Directory.CreateDirectory(net.DataDirectory);
        var written = await CairnCli.RunAsync("synthesize", "--lora-for", Devnet.ModelPath, "-o", adapter);
        Assert.True(written.ExitCode == 0, written.StdOut + written.StdErr);
        var allowed = await net.AddNodeAsync(Devnet.ModelPath, ["--adapter", adapter]);
        var other = await net.AddNodeAsync(Devnet.ModelPath, ["--adapter", adapter, "--price", "1"]);

        string model = Devnet.ModelName + "+tales-lora";

        // Before registration any of them may serve it, and the others validate.
        for (int i = 0; i < 6; i++) await Complete(net, model, i);

        // The author registers the base (public) and the adapter as private to one provider.
        string db = Path.Combine(net.DataDirectory, SqliteLedgerStore.FileName);
        Environment.SetEnvironmentVariable(PassphraseVariable, "private adapter test");
        string keyFile = Path.Combine(net.DataDirectory, "author.key");
        using (var author = Secp256k1Key.Generate(RandomNumberGenerator.Create()))
            KeyFile.Save(keyFile, author, "private adapter test", RandomNumberGenerator.Create(), iterations: 1_000);
        string payout = "0x00000000000000000000000000000000000a11ce";
        var common = new[] { "--license", "MIT", "--payout", payout, "--key", keyFile, "--passphrase-env", PassphraseVariable, "--sqlite", db };
        var baseModel = await CairnCli.RunAsync(["model", "publish", Devnet.ModelPath, "--royalty-bps", "100", .. common]);
        Assert.True(baseModel.ExitCode == 0, baseModel.StdOut + baseModel.StdErr);
        var privateAdapter = await CairnCli.RunAsync(["adapter", "publish", adapter, "--base", Devnet.ModelPath, "--royalty-bps", "200", "--private", "--allow", allowed.Id, .. common]);
        Assert.True(privateAdapter.ExitCode == 0, privateAdapter.StdOut + privateAdapter.StdErr);

        var ids = new List<string>();
        for (int i = 0; i < 10; i++) ids.Add(await Complete(net, model, 100 + i));
        foreach (string id in ids) Assert.Equal(allowed.Id, await ProviderOf(net, id));

        // Validators are drawn from the same set: with p = 1 every one of these requests is challenged, and the only
        // provider allowed to run the adapter is the asserter itself, so none of them finds a validator.
        JsonElement report;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            report = JsonDocument.Parse(await net.Http.GetStringAsync("/v1/challenges")).RootElement.Clone();
            if (report.GetProperty("pending").GetInt32() == 0) break;
            Assert.True(DateTime.UtcNow < deadline, report.ToString());
            await Task.Delay(100);
        }
        var after = report.GetProperty("challenges").EnumerateArray().Where(c => ids.Contains(c.GetProperty("request_id").GetString()!)).ToList();
        Assert.Equal(ids.Count, after.Count);
        Assert.All(after, c => Assert.Equal(("no-validator", JsonValueKind.Null), (c.GetProperty("verdict").GetString(), c.GetProperty("validator").ValueKind)));
        // Before the registration the other provider did validate adapter requests (so the filter, not chance, made the difference).
        Assert.Contains(report.GetProperty("challenges").EnumerateArray(), c => c.GetProperty("validator").ValueKind == JsonValueKind.String);

        // The plain base model stays public: both providers may still serve and validate it.
        var baseIds = new List<string>();
        for (int i = 0; i < 4; i++) baseIds.Add(await Complete(net, Devnet.ModelName, 200 + i));
        Assert.Contains(await ProviderOf(net, baseIds[0]), new[] { allowed.Id, other.Id });
    }

    private static async Task<string> Complete(Devnet net, string model, int seed)
    {
        using var response = await net.Http.PostAsJsonAsync("/v1/completions", new { model, prompt = "Once upon a time", max_tokens = 6, temperature = 0.8, seed });
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body + "\n" + net.Logs());
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    private static async Task<string> ProviderOf(Devnet net, string id)
    {
        using var doc = JsonDocument.Parse(await net.Http.GetStringAsync($"/v1/receipts/{id}"));
        return doc.RootElement.GetProperty("provider").GetString()!;
    }
}
