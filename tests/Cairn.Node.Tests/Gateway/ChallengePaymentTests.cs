using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cairn.Ledger;
using Cairn.Ledger.Accounts;
using Cairn.Ledger.Journal;
using Cairn.Ledger.Storage;
using Cairn.Node.Tests.TestSupport;

namespace Cairn.Node.Tests.Gateway;

/// <summary>
/// DESIGN.md §4.3 in a live network: a challenge that every validator reproduced pays, from the validator pool and in
/// one ledger entry, R_V / n to each validator, R_A to the asserter and the challenge discount back to the client.
/// </summary>
public sealed class ChallengePaymentTests
{
    [Fact]
    public async Task A_matched_challenge_pays_each_of_n_validators_the_asserter_and_the_client_through_the_ledger()
    {
        // The pool is fed by 5% of each fee (about 3 micro-units per request here) and pays 4 per matched challenge at
        // p = 0.5, so it runs short at first (then the validators are paid first) and later pays in full.
        const long ValidatorReward = 2, AsserterReward = 1, Discount = 1;
        await using var net = await Devnet.StartWithGatewayArgsAsync(3,
        [
            "--challenge-rate", "0.5", "--validators", "2", "--validator-reward", ValidatorReward.ToString(CultureInfo.InvariantCulture),
            "--asserter-reward", AsserterReward.ToString(CultureInfo.InvariantCulture), "--client-discount", Discount.ToString(CultureInfo.InvariantCulture),
        ]);
        const int requests = 16;
        for (int i = 0; i < requests; i++)
        {
            using var response = await net.Http.PostAsJsonAsync("/v1/completions", new { model = Devnet.ModelName, prompt = $"Once {i}", max_tokens = 48, temperature = 0.0 });
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        }
        JsonElement report;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            report = JsonDocument.Parse(await net.Http.GetStringAsync("/v1/challenges")).RootElement.Clone();
            if (report.GetProperty("pending").GetInt32() == 0 && report.GetProperty("challenges").GetArrayLength() > 0) break;
            Assert.True(DateTime.UtcNow < deadline, report.ToString());
            await Task.Delay(100);
        }
        Assert.All(report.GetProperty("challenges").EnumerateArray(), c => Assert.Equal("match", c.GetProperty("verdict").GetString()));

        // The journal: one ChallengeReward entry per paid challenge, from the pool only, to two validators, the asserter and the client.
        using var store = SqliteLedgerStore.OpenExisting(Path.Combine(net.DataDirectory, SqliteLedgerStore.FileName));
        var rewards = store.ReadJournal().Where(e => e.Kind == EntryKind.ChallengeReward).ToList();
        Assert.NotEmpty(rewards);
        int full = 0;
        foreach (var entry in rewards)
        {
            var pool = Assert.Single(entry.Postings, p => p.Account == Account.ValidatorPool);
            Assert.Equal(0, entry.Postings.Sum(p => p.Amount));
            var validators = entry.Postings.Where(p => p.Account.StartsWith("provider-earnings:", StringComparison.Ordinal) && !p.Account.EndsWith(entry.Subject, StringComparison.Ordinal)).ToList();
            long asserter = entry.Postings.Where(p => p.Account == Account.ProviderEarnings(Cairn.Protocol.Identity.Address.Parse(entry.Subject))).Sum(p => p.Amount);
            long client = entry.Postings.Where(p => p.Account.StartsWith("client:", StringComparison.Ordinal)).Sum(p => p.Amount);
            Assert.Equal(2, validators.Count);                                   // n = 2, each paid the same
            Assert.Equal(validators[0].Amount, validators[1].Amount);
            Assert.InRange(validators[0].Amount, 1, ValidatorReward / 2);
            if (asserter > 0) Assert.Equal(ValidatorReward / 2, validators[0].Amount); // validators first,
            if (client > 0) Assert.Equal(AsserterReward, asserter);                    // then the asserter, then the client
            Assert.InRange(asserter, 0, AsserterReward);
            Assert.InRange(client, 0, Discount);
            if (validators[0].Amount == ValidatorReward / 2 && asserter == AsserterReward && client == Discount) full++;
        }
        Assert.True(full > 0, $"no challenge was paid in full: {rewards.Count} rewards");

        // What /v1/challenges shows agrees with the journal.
        var paid = report.GetProperty("challenges").EnumerateArray().Where(c => c.GetProperty("reward").GetInt64() > 0).ToList();
        Assert.Equal(2 * rewards.Count, paid.Count);
        Assert.Equal(2 * full, paid.Count(c => (c.GetProperty("reward").GetInt64(), c.GetProperty("asserter_reward").GetInt64(), c.GetProperty("client_discount").GetInt64())
            == (ValidatorReward / 2, AsserterReward, Discount)));

        var verify = await CairnCli.RunAsync("ledger", "verify", "--sqlite", Path.Combine(net.DataDirectory, SqliteLedgerStore.FileName));
        Assert.True(verify.ExitCode == 0, verify.StdOut + verify.StdErr);
    }
}
