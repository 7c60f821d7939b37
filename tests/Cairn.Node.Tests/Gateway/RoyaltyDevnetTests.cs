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
/// Issue 9's show (docs/contributions.md): a devnet whose base model and a LoRA adapter are registered with royalties
/// serves a workload mixing base and adapter requests; every settled fee pays the model's owner and, for adapter
/// requests, the adapter's author exactly their registered basis points, to the unit, and the ledger verifies.
/// </summary>
public sealed class RoyaltyDevnetTests
{
    private const string PassphraseVariable = "CAIRN_TEST_ROYALTY_PASSPHRASE";
    private const int ModelBps = 777, AdapterBps = 333; // odd, so that flooring matters in most settlements

    [Fact]
    public async Task Royalties_credited_equal_the_registered_shares_of_the_settled_fees_to_the_unit()
    {
        await using var net = await Devnet.StartAsync(0);
        string adapterFile = Path.Combine(net.DataDirectory, "fables.gguf");
        var written = await CairnCli.RunAsync("synthesize", "--lora-for", Devnet.ModelPath, "-o", adapterFile);
        Assert.True(written.ExitCode == 0, written.StdOut + written.StdErr);
        await net.AddNodeAsync(Devnet.ModelPath, ["--price", "1009", "--adapter", adapterFile]);
        await net.AddNodeAsync(Devnet.ModelPath, ["--price", "997", "--adapter", adapterFile]);
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
        var author = Address.Parse("0x00000000000000000000000000000000000a7707");
        var adapterPublished = await CairnCli.RunAsync("adapter", "publish", adapterFile, "--base", Devnet.ModelPath, "--royalty-bps", AdapterBps.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--license", "CC-BY-4.0", "--payout", author.ToString(), "--key", keyFile, "--passphrase-env", PassphraseVariable, "--sqlite", db);
        Assert.True(adapterPublished.ExitCode == 0, adapterPublished.StdOut + adapterPublished.StdErr);

        var listed = await net.Http.GetFromJsonAsync<JsonElement>("/v1/contributions");
        var model = Assert.Single(listed.GetProperty("data").EnumerateArray(), c => c.GetProperty("kind").GetString() == "model");
        Assert.Equal((modelHash.ToString(), ModelBps, payout.ToString()),
            (model.GetProperty("file_sha256").GetString(), model.GetProperty("royalty_bps").GetInt32(), model.GetProperty("payout").GetString()));
        Assert.Equal("fables", Assert.Single((await net.Http.GetFromJsonAsync<JsonElement>("/v1/contributions?kind=adapter")).GetProperty("data").EnumerateArray()).GetProperty("name").GetString());
        using (var bad = await net.Http.GetAsync("/v1/contributions?kind=lora")) Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);

        // The workload: prompts and lengths vary, so fees vary; requests run concurrently over both providers.
        string[] prompts = ["Once upon a time", "The little dog", "Lily and Ben went to the park", "One day", "There was a big red ball"];
        var ids = await Task.WhenAll(Enumerable.Range(0, 12).Select(async i =>
        {
            // Every other request uses the adapter.
            using var response = await net.Http.PostAsJsonAsync("/v1/completions",
                new { model = i % 2 == 0 ? Devnet.ModelName : Devnet.ModelName + "+fables", prompt = prompts[i % prompts.Length], max_tokens = 3 + i, seed = i });
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync() + net.Logs());
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        }));
        long receiptFees = 0;
        var requests = new HashSet<string>(StringComparer.Ordinal); // the hold id of a request is its hash
        var adapted = new HashSet<string>(StringComparer.Ordinal);
        foreach (string id in ids)
        {
            var receipt = await net.Http.GetFromJsonAsync<JsonElement>($"/v1/receipts/{id}");
            receiptFees += receipt.GetProperty("price").GetInt64();
            requests.Add(receipt.GetProperty("request_hash").GetString()!);
            if (receipt.GetProperty("adapters").GetArrayLength() > 0) adapted.Add(receipt.GetProperty("request_hash").GetString()!);
        }
        Assert.Equal(ids.Length / 2, adapted.Count);

        // Stop the network so the journal holds still (a challenge may still be settling re-executions), then audit it.
        net.Gateway.Kill();
        await net.Gateway.Exited;

        // Every settlement (the workload's, and any re-execution a Proof of Sampling challenge paid for): the owner's
        // posting is exactly ⌊fee × bps / 10,000⌋ (summed over the request's registered contributions), the fee being what
        // the hold did not return to its client.
        using var store = new SqliteLedgerStore(db);
        long fees = 0, workloadFees = 0, expectedRoyalty = 0, expectedAuthor = 0;
        int settlements = 0, workload = 0, authorSettlements = 0;
        foreach (var entry in store.ReadJournal().Where(e => e.Kind == EntryKind.Settle))
        {
            long held = -entry.Postings.Single(p => p.Account == Account.Hold(entry.Reference)).Amount;
            long refunded = entry.Postings.Where(p => p.Account.StartsWith("client:", StringComparison.Ordinal)).Sum(p => p.Amount);
            long fee = held - refunded;
            long due = fee * ModelBps / 10_000, authorDue = adapted.Contains(entry.Reference) ? fee * AdapterBps / 10_000 : 0;
            Assert.Equal(due, entry.Postings.Where(p => p.Account == Account.Royalty(payout)).Sum(p => p.Amount));
            Assert.Equal(authorDue, entry.Postings.Where(p => p.Account == Account.Royalty(author)).Sum(p => p.Amount));
            expectedAuthor += authorDue;
            if (authorDue > 0) authorSettlements++;
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
        Assert.True(expectedAuthor > 0);
        Assert.Equal(expectedAuthor, store.ReadBalance(Account.Royalty(author)));

        // The owner's statement lists each request that paid; the whole ledger verifies.
        var statement = await CairnCli.RunAsync("ledger", "statement", Account.Royalty(payout), "--epoch", "0", "--sqlite", db);
        Assert.True(statement.ExitCode == 0, statement.StdErr);
        Assert.Contains($"closing balance {expectedRoyalty}  ({settlements} entries)", statement.StdOut);
        Assert.Equal(settlements, statement.StdOut.Split('\n').Count(l => l.Contains(" Settle ") && l.Contains(" / hold ")));
        var authorStatement = await CairnCli.RunAsync("ledger", "statement", Account.Royalty(author), "--epoch", "0", "--sqlite", db);
        Assert.True(authorStatement.ExitCode == 0, authorStatement.StdErr);
        Assert.Contains($"closing balance {expectedAuthor}  ({authorSettlements} entries)", authorStatement.StdOut);
        foreach (string request in adapted) Assert.Contains($" / hold {request}", authorStatement.StdOut); // which requests paid the author
        Assert.True(LedgerVerifier.Verify(store).IsConsistent);
        var verify = await CairnCli.RunAsync("ledger", "verify", "--sqlite", db);
        Assert.True(verify.ExitCode == 0, verify.StdOut + verify.StdErr);
    }
}
