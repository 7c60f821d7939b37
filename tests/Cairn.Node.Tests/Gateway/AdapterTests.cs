using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Cairn.Node.Tests.TestSupport;
using Cairn.Protocol.Messages;

namespace Cairn.Node.Tests.Gateway;

/// <summary>
/// LoRA adapters on a real network (docs/adapters.md "On the network"): <c>base+adapter</c> requests reach only the
/// providers that loaded the adapter, an unknown adapter is a 404 that holds nothing, the answer equals
/// <c>cairn run --adapter</c>, and an <c>ignore-adapter</c> cheater is caught by a challenge.
/// </summary>
public sealed class AdapterTests
{
    private const long Stake = 1_000_000;
    private const string AdapterName = "style";
    private const string Prompt = "Once upon a time";

    private static readonly Lazy<Task<string>> SharedAdapter = new(WriteAdapter);

    /// <summary>A LoRA adapter for the reference model, written once by <c>cairn synthesize --lora-for</c>.</summary>
    private static async Task<string> WriteAdapter()
    {
        string folder = Directory.CreateTempSubdirectory("cairn-node-lora-").FullName;
        string path = Path.Combine(folder, AdapterName + ".gguf");
        var r = await CairnCli.RunAsync("synthesize", "-o", path, "--lora-for", Devnet.ModelPath, "--lora-rank", "4", "--lora-alpha", "8",
            "--lora-targets", "attn_q,attn_v,ffn_up");
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}\n{r.StdOut}\n{r.StdErr}");
        return path;
    }

    private static string Sha256Hex(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    [Fact]
    public async Task A_base_plus_adapter_request_is_served_only_by_the_provider_that_loaded_the_adapter()
    {
        string adapter = await SharedAdapter.Value;
        await using var net = await Devnet.StartAsync(1);
        var plain = net.Providers[0];
        var adapted = await net.AddNodeAsync(Devnet.ModelPath, ["--adapter", adapter]);
        string model = $"{Devnet.ModelName}+{AdapterName}";

        for (int i = 0; i < 8; i++)
        {
            var (id, _) = await Complete(net, model, $"Story {i}: {Prompt}", seed: 10 + i);
            var (view, request) = await Receipt(net, id);
            Assert.Equal(adapted.Id, view.GetProperty("provider").GetString());
            Assert.Equal([Sha256Hex(adapter)], request.AdapterHashes.Select(h => h.ToString()).ToArray());
            Assert.Equal([Sha256Hex(adapter)], view.GetProperty("adapters").EnumerateArray().Select(h => h.GetString()!).ToArray());
        }
        var basePlain = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < 8; i++)
        {
            var (id, _) = await Complete(net, Devnet.ModelName, $"Story {i}: {Prompt}", seed: 10 + i);
            var (view, request) = await Receipt(net, id);
            Assert.Empty(request.AdapterHashes);
            basePlain.Add(view.GetProperty("provider").GetString()!);
        }
        Assert.Subset(new HashSet<string>([plain.Id, adapted.Id]), basePlain);

        // /v1/models lists the adapter as base+adapter, next to the base model.
        var models = JsonDocument.Parse(await net.Http.GetStringAsync("/v1/models")).RootElement.GetProperty("data").EnumerateArray()
            .Select(m => m.GetProperty("id").GetString()!).ToArray();
        Assert.Equal([Devnet.ModelName, model], models);

        // The body field adapters: [...] names the same request as base+adapter: same provider, same adapters, same answer.
        var (byModel, textByModel) = await Complete(net, model, Prompt, seed: 5);
        using var byField = await net.Http.PostAsJsonAsync("/v1/completions", new { model = Devnet.ModelName, adapters = new[] { AdapterName }, prompt = Prompt, max_tokens = 16, temperature = 0.8, seed = 5 });
        string fieldBody = await byField.Content.ReadAsStringAsync();
        Assert.True(byField.StatusCode == HttpStatusCode.OK, fieldBody);
        var fieldAnswer = JsonDocument.Parse(fieldBody).RootElement;
        Assert.Equal(model, fieldAnswer.GetProperty("model").GetString());
        Assert.Equal(textByModel, fieldAnswer.GetProperty("choices")[0].GetProperty("text").GetString());
        var (fieldView, fieldRequest) = await Receipt(net, fieldAnswer.GetProperty("id").GetString()!);
        Assert.Equal(adapted.Id, fieldView.GetProperty("provider").GetString());
        Assert.Equal([Sha256Hex(adapter)], fieldRequest.AdapterHashes.Select(h => h.ToString()).ToArray());
        Assert.Equal((await Receipt(net, byModel)).View.GetProperty("output_commitment").GetString(), fieldView.GetProperty("output_commitment").GetString());

        // Both places naming different adapters is a clear 400, not a guess.
        using var both = await net.Http.PostAsJsonAsync("/v1/completions", new { model, adapters = new[] { "other" }, prompt = Prompt, max_tokens = 4 });
        Assert.Equal(HttpStatusCode.BadRequest, both.StatusCode);
        var error = JsonDocument.Parse(await both.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal(("adapters", "adapters_mismatch"), (error.GetProperty("param").GetString(), error.GetProperty("code").GetString()));
        Assert.Contains("'style'", error.GetProperty("message").GetString());
        Assert.Contains("'other'", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task An_unknown_adapter_is_a_404_naming_it_and_nothing_is_held_or_settled()
    {
        string adapter = await SharedAdapter.Value;
        await using var net = await Devnet.StartAsync(0);
        await net.AddNodeAsync(Devnet.ModelPath, ["--adapter", adapter]);
        double entriesBefore = await LedgerEntries(net);

        using var response = await net.Http.PostAsJsonAsync("/v1/completions", new { model = $"{Devnet.ModelName}+nosuchadapter", prompt = Prompt, max_tokens = 8 });
        string body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using var doc = JsonDocument.Parse(body);
        var error = doc.RootElement.GetProperty("error");
        Assert.Equal("model_not_found", error.GetProperty("code").GetString());
        Assert.Equal("model", error.GetProperty("param").GetString());
        Assert.Contains("nosuchadapter", error.GetProperty("message").GetString());

        Assert.Equal(0, (await net.HealthAsync()).Receipts);
        Assert.Equal(entriesBefore, await LedgerEntries(net));
        // The same network serves the adapter it has: the 404 was about the name, not the network.
        await Complete(net, $"{Devnet.ModelName}+{AdapterName}", Prompt, seed: 1);
        Assert.Equal(1, (await net.HealthAsync()).Receipts);
        Assert.True(await LedgerEntries(net) > entriesBefore);
    }

    [Fact]
    public async Task The_answer_with_the_adapter_equals_cairn_run_with_the_adapter_and_differs_from_the_base_answer()
    {
        string adapter = await SharedAdapter.Value;
        await using var net = await Devnet.StartAsync(0);
        await net.AddNodeAsync(Devnet.ModelPath, ["--adapter", adapter]);

        // The API's defaults are OpenAI's (no top-k, no min-p, top-p 1); cairn run's are llama.cpp's, so name them.
        string[] run = ["run", "--model", Devnet.ModelPath, "--prompt", Prompt, "--temperature", "0.8", "--seed", "7",
            "--top-k", "0", "--min-p", "0", "--top-p", "1", "-n", "24", "--commitment", "--threads", "1"];
        var expected = await CairnCli.RunAsync([.. run, "--adapter", adapter]);
        Assert.True(expected.ExitCode == 0, expected.StdErr);
        var expectedBase = await CairnCli.RunAsync(run);
        Assert.True(expectedBase.ExitCode == 0, expectedBase.StdErr);

        var (id, text) = await Complete(net, $"{Devnet.ModelName}+{AdapterName}", Prompt, seed: 7, maxTokens: 24);
        var (view, _) = await Receipt(net, id);
        Assert.Equal(expected.StdOut[..^1], text);
        Assert.Equal(Summary(expected.StdErr)["commitment"], view.GetProperty("output_commitment").GetString());

        var (baseId, baseText) = await Complete(net, Devnet.ModelName, Prompt, seed: 7, maxTokens: 24);
        var (baseView, _) = await Receipt(net, baseId);
        Assert.Equal(expectedBase.StdOut[..^1], baseText);
        Assert.Equal(Summary(expectedBase.StdErr)["commitment"], baseView.GetProperty("output_commitment").GetString());
        Assert.NotEqual(baseText, text);
        Assert.NotEqual(baseView.GetProperty("output_commitment").GetString(), view.GetProperty("output_commitment").GetString());
    }

    [Fact]
    public async Task An_ignore_adapter_cheater_is_caught_by_a_challenge_and_slashed_by_a_tie_breaker_without_a_referee_adapter()
    {
        string adapter = await SharedAdapter.Value;
        // The gateway referees base requests (--model) but has no copy of the adapter: the tie-breaker settles it.
        await using var net = await Devnet.StartWithGatewayArgsAsync(0, ["--challenge-rate", "1", "--model", Devnet.ModelPath]);
        var cheater = await net.AddNodeAsync(Devnet.ModelPath, ["--adapter", adapter], "ignore-adapter,claim-speed:1e9");
        var honest = new[] { await net.AddNodeAsync(Devnet.ModelPath, ["--adapter", adapter]), await net.AddNodeAsync(Devnet.ModelPath, ["--adapter", adapter]) };

        var d = await CheaterCaught(net, cheater.Id);
        Assert.Equal("tie-breaker", d.GetProperty("kind").GetString());
        Assert.Contains("re-execution", d.GetProperty("detail").GetString());
        await AssertOnlyCheaterSlashed(net, cheater.Id, honest.Select(h => h.Id));
    }

    [Fact]
    public async Task An_ignore_adapter_cheater_loses_a_refereed_dispute_when_the_gateway_has_the_adapter()
    {
        string adapter = await SharedAdapter.Value;
        await using var net = await Devnet.StartWithGatewayArgsAsync(0, ["--challenge-rate", "1", "--model", Devnet.ModelPath, "--adapter", adapter]);
        var cheater = await net.AddNodeAsync(Devnet.ModelPath, ["--adapter", adapter], "ignore-adapter,claim-speed:1e9");
        var honest = await net.AddNodeAsync(Devnet.ModelPath, ["--adapter", adapter]);

        var d = await CheaterCaught(net, cheater.Id);
        // The adapter changes attn_q of layer 0, so the traces part at the first step's first layer: the referee recomputes
        // that layer with the adapter and agrees with the honest side.
        Assert.Equal(("layer", 0, 0), (d.GetProperty("kind").GetString(), d.GetProperty("step").GetInt32(), d.GetProperty("layer").GetInt32()));
        string id = d.GetProperty("id").GetString()!;
        byte[] evidence = await net.Http.GetByteArrayAsync($"/v1/disputes/{id}/evidence");
        Assert.Equal(d.GetProperty("evidence").GetString(), Cairn.Protocol.Crypto.Keccak256.Hash(evidence).ToString());
        var decoded = Cairn.Protocol.Sampling.DisputeEvidence.Decode(evidence);
        Assert.Equal([Sha256Hex(adapter)], decoded.Request.AdapterHashes.Select(h => h.ToString()).ToArray());
        Assert.True(decoded.Check().IsValid);
        await AssertOnlyCheaterSlashed(net, cheater.Id, [honest.Id]);

        // cairn verify re-checks it with the adapter, and refuses to judge without it.
        string file = Path.Combine(net.DataDirectory, "copy.evidence");
        await File.WriteAllBytesAsync(file, evidence);
        var ok = await CairnCli.RunAsync("verify", file, "--model", Devnet.ModelPath, "--adapter", adapter, "--threads", "1");
        Assert.True(ok.ExitCode == 0, $"exit {ok.ExitCode}\n{ok.StdOut}\n{ok.StdErr}");
        Assert.Contains("verdict holds", ok.StdOut);
        var without = await CairnCli.RunAsync("verify", file, "--model", Devnet.ModelPath, "--threads", "1");
        Assert.True(without.ExitCode == 2, $"exit {without.ExitCode}\n{without.StdOut}\n{without.StdErr}");
        Assert.Contains("give its file with --adapter", without.StdErr);
    }

    /// <summary>Sends an adapter request (the cheater claims the speed to get it) and waits for its dispute; the settled dispute.</summary>
    private static async Task<JsonElement> CheaterCaught(Devnet net, string cheater)
    {
        var (id, _) = await Complete(net, $"{Devnet.ModelName}+{AdapterName}", Prompt, seed: 7);
        var (view, _) = await Receipt(net, id);
        Assert.Equal(cheater, view.GetProperty("provider").GetString());
        var report = await WaitFor(net, r => r.GetProperty("disputes").GetArrayLength() > 0 && r.GetProperty("pending").GetInt32() == 0, "the dispute settled");
        var d = report.GetProperty("disputes")[0];
        Assert.Equal("mismatch: asserter wrong", d.GetProperty("verdict").GetString());
        Assert.Equal(cheater, d.GetProperty("loser").GetString());
        Assert.Equal(Stake, d.GetProperty("slashed").GetInt64());
        return d;
    }

    private static async Task AssertOnlyCheaterSlashed(Devnet net, string cheater, IEnumerable<string> honest)
    {
        var report = JsonDocument.Parse(await net.Http.GetStringAsync("/v1/challenges")).RootElement;
        var accounts = report.GetProperty("providers").EnumerateArray()
            .ToDictionary(p => p.GetProperty("id").GetString()!, p => (p.GetProperty("stake").GetInt64(), p.GetProperty("eligible").GetBoolean()));
        Assert.Equal((0L, false), accounts[cheater]);
        foreach (string h in honest) Assert.Equal((Stake, true), accounts[h]);
        foreach (var d in report.GetProperty("disputes").EnumerateArray()) Assert.Equal(cheater, d.GetProperty("loser").GetString());
    }

    private static Dictionary<string, string> Summary(string stderr) =>
        stderr.Split('\n').Last(l => l.StartsWith("tokens=", StringComparison.Ordinal)).Split(' ')
            .ToDictionary(p => p[..p.IndexOf('=')], p => p[(p.IndexOf('=') + 1)..]);

    private static async Task<double> LedgerEntries(Devnet net)
    {
        var families = PrometheusText.Parse(await net.Http.GetStringAsync("/metrics"));
        return families["cairn_ledger_entries_total"].Samples.Single().Value;
    }

    private static async Task<(string Id, string Text)> Complete(Devnet net, string model, string prompt, int seed, int maxTokens = 16)
    {
        using var response = await net.Http.PostAsJsonAsync("/v1/completions", new { model, prompt, max_tokens = maxTokens, temperature = 0.8, seed });
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body + "\n" + net.Logs());
        using var doc = JsonDocument.Parse(body);
        Assert.Equal(model, doc.RootElement.GetProperty("model").GetString());
        return (doc.RootElement.GetProperty("id").GetString()!, doc.RootElement.GetProperty("choices")[0].GetProperty("text").GetString()!);
    }

    private static async Task<(JsonElement View, InferenceRequest Request)> Receipt(Devnet net, string id)
    {
        var view = JsonDocument.Parse(await net.Http.GetStringAsync($"/v1/receipts/{id}")).RootElement;
        return (view, InferenceRequest.Decode(Convert.FromHexString(view.GetProperty("request_hex").GetString()!)));
    }

    private static async Task<JsonElement> WaitFor(Devnet net, Func<JsonElement, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var report = JsonDocument.Parse(await net.Http.GetStringAsync("/v1/challenges")).RootElement;
            if (condition(report)) return report;
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting for {what}: {report}\n{net.Logs()}");
            await Task.Delay(50);
        }
    }
}
