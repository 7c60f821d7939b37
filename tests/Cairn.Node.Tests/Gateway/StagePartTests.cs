using System.Net;
using System.Text.Json;
using Cairn.Engine.Models;
using Cairn.Engine.Tensors;
using Cairn.Ledger.Economics;
using Cairn.Node.Tests.TestSupport;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Messages;
using Cairn.Protocol.Sampling;

namespace Cairn.Node.Tests.Gateway;

/// <summary>
/// Proof of Sampling on pipelined requests (docs/pipeline.md "Signed stage parts", docs/verification.md "Pipelined
/// requests"), with real processes: three stages serve a model, each signs its part of the trace; the gateway checks the
/// parts, splits the fee by layers served, and at challenge rate 1 re-executes every answer on its own copy of the model
/// (<c>--model</c>). An honest pipeline always matches; a middle stage that skips a layer is named by the dispute and
/// slashed alone, with evidence that <c>cairn verify</c> re-checks; a stage whose part is signed by another key is refused.
/// </summary>
public sealed class StagePartTests
{
    private const long Stake = 1_000_000;
    private const string Memory = "4MB";

    private static readonly Lazy<string> ModelFile = new(() =>
    {
        string path = Path.Combine(Path.GetTempPath(), $"cairn-stageparts-{Guid.NewGuid():N}"[..26] + ".gguf");
        SyntheticModel.Write(path, new SyntheticModelSpec { WeightType = GgmlType.Q8_0, Dim = 256, HiddenDim = 768, Layers = 8, ContextLength = 256, Seed = 8 });
        return path;
    });

    private static string ModelName => Path.GetFileNameWithoutExtension(ModelFile.Value);

    private static async Task<(Devnet Net, string[] Stages)> Start(string? middleFault = null, string? lastFault = null)
    {
        var net = await Devnet.StartWithGatewayArgsAsync(0, ["--challenge-rate", "1", "--model", ModelFile.Value]);
        var first = await net.AddNodeAsync(ModelFile.Value, ["--layers", "0:3", "--memory", Memory]);
        var middle = await net.AddNodeAsync(ModelFile.Value, ["--layers", "3:5", "--memory", Memory], middleFault);
        var last = await net.AddNodeAsync(ModelFile.Value, ["--layers", "5:8", "--memory", Memory], lastFault);
        return (net, [first.Id, middle.Id, last.Id]);
    }

    [Fact]
    public async Task An_honest_pipeline_signs_its_parts_splits_the_fee_by_layers_and_every_challenge_matches()
    {
        var (net, stages) = await Start();
        await using var _ = net;
        var receipts = new List<JsonElement>();
        foreach (var (temperature, seed) in new[] { (0f, 1), (0.9f, 2), (0.9f, 3) })
        {
            using var response = await Post(net, temperature, seed);
            string body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body + "\n" + net.Logs());
            string id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
            receipts.Add(JsonDocument.Parse(await net.Http.GetStringAsync($"/v1/receipts/{id}")).RootElement.Clone());
        }

        // Every receipt carries three parts, signed by the stages, covering 0..7 in order, the last with the tokens.
        long[] expected = new long[3];
        foreach (var r in receipts)
        {
            var request = InferenceRequest.Decode(Convert.FromHexString(r.GetProperty("request_hex").GetString()!));
            var receipt = Receipt.Decode(Convert.FromHexString(r.GetProperty("receipt_hex").GetString()!));
            var parts = r.GetProperty("stage_parts").EnumerateArray().Select(p => StagePart.Decode(Convert.FromHexString(p.GetProperty("part_hex").GetString()!))).ToArray();
            Assert.Equal([(0, 3), (3, 5), (5, 8)], parts.Select(p => (p.FirstLayer, p.EndLayer)));
            Assert.Equal(stages, parts.Select(p => p.Provider.ToString()));
            Assert.All(parts, p => Assert.True(p.Verify().IsValid));
            Assert.All(parts, p => Assert.Equal((request.Hash(), request.PromptTokens.Count + receipt.CompletionTokens - 1), (p.RequestHash, p.Steps)));
            Assert.Equal(receipt.CompletionTokens, parts[2].Tokens.Count);
            Assert.Empty(parts[0].Tokens);

            // The provider's 80% of the fee, split 3 : 2 : 3 by layers served, the remainder to the last stage.
            Assert.True(receipt.Price > 0);
            long share = (long)((Int128)(long)receipt.Price * FeeSplit.Default.ProviderBps / 10_000); // FeeSplit.Share
            long a = share * 3 / 8, b = share * 2 / 8;
            expected[0] += a;
            expected[1] += b;
            expected[2] += share - a - b;
        }

        var report = await net.ChallengesDecidedAsync(3, TimeSpan.FromSeconds(120));
        var challenges = report.GetProperty("challenges").EnumerateArray().ToArray();
        Assert.Equal(3, challenges.Length);
        Assert.All(challenges, c => Assert.Equal(("match", "gateway referee"), (c.GetProperty("verdict").GetString(), c.GetProperty("validator").GetString())));
        Assert.Empty(report.GetProperty("disputes").EnumerateArray());
        var accounts = report.GetProperty("providers").EnumerateArray().ToDictionary(p => p.GetProperty("id").GetString()!, p => (p.GetProperty("stake").GetInt64(), p.GetProperty("earnings").GetInt64()));
        for (int k = 0; k < 3; k++) Assert.Equal((Stake, expected[k]), accounts[stages[k]]);
    }

    [Fact]
    public async Task A_middle_stage_that_skips_a_layer_is_named_by_the_dispute_and_slashed_alone()
    {
        var (net, stages) = await Start(middleFault: "skip-layers:4");
        await using var _ = net;
        using (var response = await Post(net, 0.9f, 5))
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync() + "\n" + net.Logs());
        }
        var report = await net.ChallengesDecidedAsync(1, TimeSpan.FromSeconds(120));
        var d = report.GetProperty("disputes").EnumerateArray().Single();
        Assert.Equal(("stage-layer", "mismatch: stage wrong", stages[1]), (d.GetProperty("kind").GetString(), d.GetProperty("verdict").GetString(), d.GetProperty("loser").GetString()));
        Assert.Equal((0, 4), (d.GetProperty("step").GetInt32(), d.GetProperty("layer").GetInt32()));
        Assert.Equal(Stake, d.GetProperty("slashed").GetInt64());
        var stakes = report.GetProperty("providers").EnumerateArray().ToDictionary(p => p.GetProperty("id").GetString()!, p => p.GetProperty("stake").GetInt64());
        Assert.Equal([Stake, 0, Stake], stages.Select(s => stakes[s]));

        // The evidence names the middle stage through its signed part and re-checks on its own.
        string id = d.GetProperty("id").GetString()!;
        byte[] evidence = await net.Http.GetByteArrayAsync($"/v1/disputes/{id}/evidence");
        Assert.Equal(d.GetProperty("evidence").GetString(), Keccak256.Hash(evidence).ToString());
        var decoded = StageDisputeEvidence.Decode(evidence);
        Assert.True(decoded.Check().IsValid);
        Assert.Equal((1, stages[1]), (decoded.AccusedIndex(), decoded.Accused.Provider.ToString()));
        Assert.Single(decoded.Inputs); // the outputs of layer 3 (the middle stage's own first layer) at step 0

        string file = Path.Combine(net.DataDirectory, "copy.evidence");
        await File.WriteAllBytesAsync(file, evidence);
        var ok = await CairnCli.RunAsync("verify", file, "--model", ModelFile.Value, "--threads", "1");
        Assert.True(ok.ExitCode == 0, $"exit {ok.ExitCode}\n{ok.StdOut}\n{ok.StdErr}");
        Assert.Contains("verdict holds", ok.StdOut);
        Assert.Contains(stages[1], ok.StdOut);

        // The recomputed hash replaced by the stage's own claim: no fault follows, and verify refuses it.
        var tampered = StageDisputeEvidence.Decode(evidence);
        var lie = new StageDisputeEvidence
        {
            Request = tampered.Request,
            Receipt = tampered.Receipt,
            Parts = tampered.Parts,
            Tokens = tampered.Tokens,
            LayerHashes = tampered.LayerHashes,
            Step = tampered.Step,
            Layer = tampered.Layer,
            Inputs = tampered.Inputs,
            InputsHash = tampered.InputsHash,
            RecomputedHash = tampered.LayerHashes[tampered.Step][tampered.Layer],
        };
        Assert.False(lie.Check().IsValid);
        await File.WriteAllBytesAsync(file, lie.Encode());
        var bad = await CairnCli.RunAsync("verify", file, "--model", ModelFile.Value, "--threads", "1");
        Assert.True(bad.ExitCode == 1, $"exit {bad.ExitCode}\n{bad.StdOut}\n{bad.StdErr}");
        // One input byte flipped: the rows no longer hash to the trace's outputs of layer 3.
        var flipped = (byte[])evidence.Clone();
        flipped[^(2 * Hash256.Size + 1)] ^= 0x01;
        await File.WriteAllBytesAsync(file, flipped);
        bad = await CairnCli.RunAsync("verify", file, "--model", ModelFile.Value, "--threads", "1");
        Assert.True(bad.ExitCode == 1, $"exit {bad.ExitCode}\n{bad.StdOut}\n{bad.StdErr}");
    }

    [Fact]
    public async Task A_last_stage_that_samples_with_another_seed_loses_a_token_dispute_and_is_slashed_alone()
    {
        var (net, stages) = await Start(lastFault: "wrong-seed");
        await using var _ = net;
        using (var response = await Post(net, 0.9f, 5))
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync() + "\n" + net.Logs());
        }
        var report = await net.ChallengesDecidedAsync(1, TimeSpan.FromSeconds(120));
        var d = report.GetProperty("disputes").EnumerateArray().Single();
        Assert.Equal(("stage-token", "mismatch: stage wrong", stages[2]), (d.GetProperty("kind").GetString(), d.GetProperty("verdict").GetString(), d.GetProperty("loser").GetString()));
        Assert.Equal(7, d.GetProperty("layer").GetInt32());
        var stakes = report.GetProperty("providers").EnumerateArray().ToDictionary(p => p.GetProperty("id").GetString()!, p => p.GetProperty("stake").GetInt64());
        Assert.Equal([Stake, Stake, 0], stages.Select(s => stakes[s]));

        string id = d.GetProperty("id").GetString()!;
        byte[] evidence = await net.Http.GetByteArrayAsync($"/v1/disputes/{id}/evidence");
        var decoded = StageDisputeEvidence.Decode(evidence);
        Assert.Equal((StageDisputeKind.Token, 2, d.GetProperty("index").GetInt32()), (decoded.Kind, decoded.AccusedIndex(), decoded.Index));
        Assert.NotEqual(decoded.Claim, decoded.Expected);
        Assert.True(decoded.Check().IsValid);
        string file = Path.Combine(net.DataDirectory, "copy.evidence");
        await File.WriteAllBytesAsync(file, evidence);
        var ok = await CairnCli.RunAsync("verify", file, "--model", ModelFile.Value, "--threads", "1");
        Assert.True(ok.ExitCode == 0, $"exit {ok.ExitCode}\n{ok.StdOut}\n{ok.StdErr}");
        // The expected continuation replaced by another token (neither the claim nor the referee's): verify refuses it.
        int other = Enumerable.Range(0, 300).First(t => t != decoded.Claim && t != decoded.Expected);
        var lie = new StageDisputeEvidence
        {
            Kind = decoded.Kind,
            Request = decoded.Request,
            Receipt = decoded.Receipt,
            Parts = decoded.Parts,
            Tokens = decoded.Tokens,
            LayerHashes = decoded.LayerHashes,
            Step = decoded.Step,
            Layer = decoded.Layer,
            Inputs = decoded.Inputs,
            InputsHash = decoded.InputsHash,
            RecomputedHash = decoded.RecomputedHash,
            Stops = decoded.Stops,
            Index = decoded.Index,
            Expected = other,
        };
        Assert.True(lie.Check().IsValid); // consistent on its own: only the model says it is wrong
        await File.WriteAllBytesAsync(file, lie.Encode());
        var bad = await CairnCli.RunAsync("verify", file, "--model", ModelFile.Value, "--threads", "1");
        Assert.True(bad.ExitCode == 1, $"exit {bad.ExitCode}\n{bad.StdOut}\n{bad.StdErr}");
    }

    [Fact]
    public async Task A_stage_part_signed_by_another_key_is_refused_and_nothing_is_settled()
    {
        var (net, stages) = await Start(lastFault: "bad-signature");
        await using var _ = net;
        using var response = await Post(net, 0f, 9);
        string body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("stage part is refused", body, StringComparison.Ordinal);
        Assert.Contains("wrong_signer", body, StringComparison.Ordinal);
        await net.Gateway.WaitForLine(l => l.Contains(stages[2], StringComparison.Ordinal) && l.Contains("refused", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        // Nothing settled: no stage earned anything, and nothing was drawn.
        using var report = JsonDocument.Parse(await net.Http.GetStringAsync("/v1/challenges"));
        Assert.Empty(report.RootElement.GetProperty("challenges").EnumerateArray());
        Assert.All(report.RootElement.GetProperty("providers").EnumerateArray(), p => Assert.Equal(0, p.GetProperty("earnings").GetInt64()));
    }

    [Fact]
    public async Task A_stage_part_whose_root_is_not_its_reported_hashes_is_refused()
    {
        var (net, stages) = await Start(middleFault: "forge-stage-part");
        await using var _ = net;
        using var response = await Post(net, 0f, 9);
        string body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("its part root is not the root of the layer hashes it reported", body, StringComparison.Ordinal);
        Assert.Contains(stages[1], body, StringComparison.Ordinal);
        using var report = JsonDocument.Parse(await net.Http.GetStringAsync("/v1/challenges"));
        Assert.All(report.RootElement.GetProperty("providers").EnumerateArray(), p => Assert.Equal(0, p.GetProperty("earnings").GetInt64()));
    }

    [Fact]
    public async Task A_stage_that_forwards_rows_other_than_it_hashed_is_failed_on_the_spot_and_an_honest_one_takes_over()
    {
        await using var net = await Devnet.StartWithGatewayArgsAsync(0, ["--challenge-rate", "1", "--model", ModelFile.Value]);
        var first = await net.AddNodeAsync(ModelFile.Value, ["--layers", "0:3", "--memory", Memory]);
        // The cheater announces a huge speed, so the chain takes it first for layers 3..4.
        var cheater = await net.AddNodeAsync(ModelFile.Value, ["--layers", "3:5", "--memory", Memory], "forward-other-rows,claim-speed:1e9");
        var honest = await net.AddNodeAsync(ModelFile.Value, ["--layers", "3:5", "--memory", Memory]);
        var last = await net.AddNodeAsync(ModelFile.Value, ["--layers", "5:8", "--memory", Memory]);
        using var response = await Post(net, 0.9f, 4);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body + "\n" + net.Logs());
        string id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
        await net.Gateway.WaitForLine(l => l.Contains(cheater.Id, StringComparison.Ordinal) && l.Contains("do not hash to the stage's hash of layer 4", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30));
        using var receipt = JsonDocument.Parse(await net.Http.GetStringAsync($"/v1/receipts/{id}"));
        Assert.Equal([first.Id, honest.Id, last.Id], receipt.RootElement.GetProperty("stage_parts").EnumerateArray().Select(p => p.GetProperty("provider").GetString()!));
        // The honest chain's answer is challenged and matches; the cheater earned nothing and was not slashed (caught before any receipt).
        var report = await net.ChallengesDecidedAsync(1, TimeSpan.FromSeconds(120));
        Assert.Equal("match", report.GetProperty("challenges")[0].GetProperty("verdict").GetString());
        var accounts = report.GetProperty("providers").EnumerateArray().ToDictionary(p => p.GetProperty("id").GetString()!, p => p.GetProperty("earnings").GetInt64());
        Assert.Equal(0, accounts[cheater.Id]);
        Assert.True(accounts[honest.Id] > 0);
    }

    private static Task<HttpResponseMessage> Post(Devnet net, float temperature, int seed) =>
        net.Http.PostAsync("/v1/completions", new StringContent(JsonSerializer.Serialize(new { model = ModelName, prompt = "Once upon a time", max_tokens = 12, temperature, seed }),
            System.Text.Encoding.UTF8, "application/json"));
}
