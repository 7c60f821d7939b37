using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Cairn.Ledger.Accounts;
using Cairn.Ledger.Journal;
using Cairn.Ledger.Storage;
using Cairn.Ledger.Verification;
using Cairn.Node.Tests.TestSupport;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;

namespace Cairn.Node.Tests.Gateway;

/// <summary>
/// Issue 9's show (docs/contributions.md): a devnet whose base model is registered with a royalty serves a workload;
/// every settled fee pays the model's owner exactly its registered basis points, to the unit, and the ledger verifies.
/// Adapter requests join the same workload once providers serve adapters: publish the adapter with
/// <c>cairn adapter publish</c>, add its (file SHA-256, bps) to <c>registered</c> and requests naming it to the workload;
/// the per-settlement check below already sums every registered contribution a request used.
/// </summary>
public sealed class RoyaltyDevnetTests
{
    private const string PassphraseVariable = "CAIRN_TEST_ROYALTY_PASSPHRASE";
    private const int ModelBps = 777; // odd, so that flooring matters in most settlements

    [Fact]
    public async Task Royalties_credited_equal_the_registered_shares_of_the_settled_fees_to_the_unit()
    {
        await using var net = await Devnet.StartAsync(0);
        await net.AddNodeAsync(Devnet.ModelPath, ["--price", "1009"]);
        await net.AddNodeAsync(Devnet.ModelPath, ["--price", "997"]);
        string db = Path.Combine(net.DataDirectory, SqliteLedgerStore.FileName);

        // The model's owner registers it while the gateway runs (the registry is in the gateway's own ledger).
        Environment.SetEnvironmentVariable(PassphraseVariable, "royalty test passphrase");
        string keyFile = Path.Combine(net.DataDirectory, "owner.key");
        using (var owner = Secp256k1Key.Generate(RandomNumberGenerator.Create()))
            KeyFile.Save(keyFile, owner, "royalty test passphrase", RandomNumberGenerator.Create(), iterations: 1_000);
        var payout = Address.Parse("0x00000000000000000000000000000000000c0ffe");
        var published = await CairnCli.RunAsync("model", "publish", Devnet.ModelPath, "--royalty-bps", ModelBps.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--license", "MIT", "--payout", payout.ToString(), "--key", keyFile, "--passphrase-env", PassphraseVariable, "--sqlite", db);
        Assert.True(published.ExitCode == 0, published.StdOut + published.StdErr);
        var modelHash = new Hash256(SHA256.HashData(File.ReadAllBytes(Devnet.ModelPath)));
        var registered = new Dictionary<Hash256, int> { [modelHash] = ModelBps };

        var listed = await net.Http.GetFromJsonAsync<JsonElement>("/v1/contributions");
        var model = Assert.Single(listed.GetProperty("data").EnumerateArray());
        Assert.Equal((modelHash.ToString(), ModelBps, payout.ToString()),
            (model.GetProperty("file_sha256").GetString(), model.GetProperty("royalty_bps").GetInt32(), model.GetProperty("payout").GetString()));
        Assert.Empty((await net.Http.GetFromJsonAsync<JsonElement>("/v1/contributions?kind=adapter")).GetProperty("data").EnumerateArray());
        using (var bad = await net.Http.GetAsync("/v1/contributions?kind=lora")) Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);

        // The workload: prompts and lengths vary, so fees vary; requests run concurrently over both providers.
        string[] prompts = ["Once upon a time", "The little dog", "Lily and Ben went to the park", "One day", "There was a big red ball"];
        var ids = await Task.WhenAll(Enumerable.Range(0, 12).Select(async i =>
        {
            using var response = await net.Http.PostAsJsonAsync("/v1/completions", new { model = Devnet.ModelName, prompt = prompts[i % prompts.Length], max_tokens = 3 + i, seed = i });
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync() + net.Logs());
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        }));
        long receiptFees = 0;
        var requests = new HashSet<string>(StringComparer.Ordinal); // the hold id of a request is its hash
        foreach (string id in ids)
        {
            var receipt = await net.Http.GetFromJsonAsync<JsonElement>($"/v1/receipts/{id}");
            receiptFees += receipt.GetProperty("price").GetInt64();
            requests.Add(receipt.GetProperty("request_hash").GetString()!);
        }

        // Stop the network so the journal holds still (a challenge may still be settling re-executions), then audit it.
        net.Gateway.Kill();
        await net.Gateway.Exited;

        // Every settlement (the workload's, and any re-execution a Proof of Sampling challenge paid for): the owner's
        // posting is exactly ⌊fee × bps / 10,000⌋ (summed over the request's registered contributions), the fee being what
        // the hold did not return to its client.
        using var store = new SqliteLedgerStore(db);
        long fees = 0, workloadFees = 0, expectedRoyalty = 0;
        int settlements = 0, workload = 0;
        foreach (var entry in store.ReadJournal().Where(e => e.Kind == EntryKind.Settle))
        {
            long held = -entry.Postings.Single(p => p.Account == Account.Hold(entry.Reference)).Amount;
            long refunded = entry.Postings.Where(p => p.Account.StartsWith("client:", StringComparison.Ordinal)).Sum(p => p.Amount);
            long fee = held - refunded;
            long due = registered.Values.Sum(bps => fee * bps / 10_000);
            Assert.Equal(due, entry.Postings.Where(p => p.Account == Account.Royalty(payout)).Sum(p => p.Amount));
            fees += fee;
            expectedRoyalty += due;
            settlements++;
            if (!requests.Contains(entry.Reference)) continue;
            workload++;
            workloadFees += fee;
        }
        Assert.Equal(ids.Length, workload);
        Assert.Equal(receiptFees, workloadFees);
        Assert.True(expectedRoyalty > 0);
        Assert.Equal(expectedRoyalty, store.ReadBalance(Account.Royalty(payout)));
        Assert.True(expectedRoyalty <= fees * ModelBps / 10_000, "flooring each settlement never pays more than the share of the total");

        // The owner's statement lists each request that paid; the whole ledger verifies.
        var statement = await CairnCli.RunAsync("ledger", "statement", Account.Royalty(payout), "--epoch", "0", "--sqlite", db);
        Assert.True(statement.ExitCode == 0, statement.StdErr);
        Assert.Contains($"closing balance {expectedRoyalty}  ({settlements} entries)", statement.StdOut);
        Assert.Equal(settlements, statement.StdOut.Split('\n').Count(l => l.Contains(" Settle ") && l.Contains(" / hold ")));
        Assert.True(LedgerVerifier.Verify(store).IsConsistent);
        var verify = await CairnCli.RunAsync("ledger", "verify", "--sqlite", db);
        Assert.True(verify.ExitCode == 0, verify.StdOut + verify.StdErr);
    }
}
