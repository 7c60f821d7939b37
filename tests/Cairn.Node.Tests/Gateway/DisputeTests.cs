using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cairn.Node.Rpc;
using Cairn.Node.Tests.TestSupport;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Messages;
using Cairn.Protocol.Sampling;
using Grpc.Core;
using Grpc.Net.Client;

namespace Cairn.Node.Tests.Gateway;

/// <summary>
/// Disputes settled by the gateway's referee (docs/verification.md "In the network"), in a real network: the gateway
/// loads the model (<c>--model</c>), asks both sides for their traces (the provider <c>Trace</c> RPC), bisects, and
/// recomputes one layer or replays the sampler; the stored evidence re-checks with <c>cairn verify</c> in a child process.
/// </summary>
public sealed class DisputeTests
{
    private const long Stake = 1_000_000;

    private static string[] RefereeArgs(params string[] more) => ["--challenge-rate", "1", "--model", Devnet.ModelPath, .. more];

    [Fact]
    public async Task A_wrong_seed_cheater_loses_a_token_dispute_and_the_evidence_rechecks_with_cairn_verify()
    {
        await using var net = await Devnet.StartWithGatewayArgsAsync(2, RefereeArgs(), "wrong-seed,claim-speed:1e9", null);
        string cheater = net.Providers[0].Id, honest = net.Providers[1].Id;

        await Complete(net, "Once upon a time", seed: 7);
        var report = await WaitFor(net, r => r.GetProperty("disputes").GetArrayLength() > 0 && r.GetProperty("pending").GetInt32() == 0, "the dispute settled");
        var d = report.GetProperty("disputes")[0];
        Assert.Equal("token", d.GetProperty("kind").GetString());
        Assert.Equal("mismatch: asserter wrong", d.GetProperty("verdict").GetString());
        Assert.Equal(cheater, d.GetProperty("loser").GetString());
        Assert.Equal(Stake, d.GetProperty("slashed").GetInt64());
        int index = d.GetProperty("index").GetInt32();
        Assert.True(index >= 0);
        var challenge = report.GetProperty("challenges")[0];
        Assert.Equal((cheater, honest), (challenge.GetProperty("asserter").GetString(), challenge.GetProperty("validator").GetString()));
        var accounts = Accounts(report);
        Assert.Equal((0L, false), accounts[cheater]);
        Assert.Equal((Stake, true), accounts[honest]);

        // The evidence is stored, served, referenced by its Keccak-256, and re-checks on its own.
        string id = d.GetProperty("id").GetString()!;
        byte[] evidence = await net.Http.GetByteArrayAsync($"/v1/disputes/{id}/evidence");
        Assert.Equal(d.GetProperty("evidence").GetString(), Keccak256.Hash(evidence).ToString());
        Assert.Equal(evidence, await File.ReadAllBytesAsync(Path.Combine(net.DataDirectory, "disputes", id + ".evidence")));
        var decoded = TokenDisputeEvidence.Decode(evidence);
        Assert.Equal((index, Verdict.ValidatorRight), (decoded.Index, decoded.Verdict));
        Assert.Equal(decoded.HiddenStep, d.GetProperty("step").GetInt32());
        Assert.NotEqual(decoded.AsserterClaim, decoded.ValidatorClaim);
        Assert.Equal(decoded.ValidatorClaim, decoded.Expected);
        Assert.True(decoded.Check().IsValid);

        string file = Path.Combine(net.DataDirectory, "copy.evidence");
        await File.WriteAllBytesAsync(file, evidence);
        var ok = await CairnCli.RunAsync("verify", file, "--model", Devnet.ModelPath, "--threads", "1");
        Assert.True(ok.ExitCode == 0, $"exit {ok.ExitCode}\n{ok.StdOut}\n{ok.StdErr}");
        Assert.Contains("verdict holds", ok.StdOut);

        // A byte flipped in the expected continuation: the verdict no longer follows, and verify refuses it.
        var tampered = (byte[])evidence.Clone();
        tampered[^2] ^= 0x01;
        await File.WriteAllBytesAsync(file, tampered);
        var bad = await CairnCli.RunAsync("verify", file, "--model", Devnet.ModelPath, "--threads", "1");
        Assert.True(bad.ExitCode == 1, $"exit {bad.ExitCode}\n{bad.StdOut}\n{bad.StdErr}");
        Assert.Contains("does NOT hold", bad.StdOut);

        Assert.Equal(HttpStatusCode.NotFound, (await net.Http.GetAsync("/v1/disputes/..%2Fledger/evidence")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await net.Http.GetAsync($"/v1/disputes/{id[..^1]}9/evidence")).StatusCode);
    }

    [Fact]
    public async Task A_forge_commitment_cheater_forfeits_the_dispute()
    {
        await using var net = await Devnet.StartWithGatewayArgsAsync(2, RefereeArgs(), "forge-commitment,claim-speed:1e9", null);
        string cheater = net.Providers[0].Id, honest = net.Providers[1].Id;

        await Complete(net, "Once upon a time", seed: 7);
        var report = await WaitFor(net, r => r.GetProperty("disputes").GetArrayLength() > 0 && r.GetProperty("pending").GetInt32() == 0, "the dispute settled");
        var d = report.GetProperty("disputes")[0];
        Assert.Equal(("forfeit", "mismatch: asserter wrong", cheater, Stake),
            (d.GetProperty("kind").GetString(), d.GetProperty("verdict").GetString(), d.GetProperty("loser").GetString(), d.GetProperty("slashed").GetInt64()));
        Assert.Contains("output commitment", d.GetProperty("detail").GetString());
        Assert.Equal(JsonValueKind.Null, d.GetProperty("evidence").ValueKind);
        var accounts = Accounts(report);
        Assert.Equal((0L, false), accounts[cheater]);
        Assert.Equal((Stake, true), accounts[honest]);
    }

    [Fact]
    public async Task Honest_providers_never_lose_with_the_referee_and_two_validators()
    {
        await using var net = await Devnet.StartWithGatewayArgsAsync(3, RefereeArgs("--validators", "2"));
        const int requests = 4;
        for (int i = 0; i < requests; i++) await Complete(net, $"Story {i}: once upon a time", seed: 100 + i);
        var report = await WaitFor(net, r => r.GetProperty("challenges").GetArrayLength() == 2 * requests && r.GetProperty("pending").GetInt32() == 0, "every request validated twice");
        Assert.Equal(2, report.GetProperty("validators").GetInt32());
        Assert.True(report.GetProperty("referee").GetBoolean());
        foreach (var c in report.GetProperty("challenges").EnumerateArray())
        {
            Assert.Equal("match", c.GetProperty("verdict").GetString());
            Assert.NotEqual(c.GetProperty("asserter").GetString(), c.GetProperty("validator").GetString());
        }
        Assert.Equal(0, report.GetProperty("disputes").GetArrayLength());
        Assert.All(Accounts(report).Values, a => Assert.Equal((Stake, true), a));
    }

    [Fact]
    public async Task Trace_replays_a_generation_to_its_receipts_trace_root_and_refuses_bad_input_clearly()
    {
        await using var net = await Devnet.StartAsync(1);
        string id = await Complete(net, "Once upon a time", seed: 3);
        using var view = JsonDocument.Parse(await net.Http.GetStringAsync($"/v1/receipts/{id}"));
        byte[] requestBytes = Convert.FromHexString(view.RootElement.GetProperty("request_hex").GetString()!);
        var request = InferenceRequest.Decode(requestBytes);
        string grpc = net.Providers[0].Process.Output.Split('\n').First(l => l.StartsWith("provider: id=", StringComparison.Ordinal))
            .Split(' ').First(f => f.StartsWith("grpc=", StringComparison.Ordinal))["grpc=".Length..];
        using var channel = GrpcChannel.ForAddress(grpc);
        var client = new Rpc.Provider.ProviderClient(channel);

        // The same signed request again (deterministic: the same tokens), then its trace.
        var generate = new GenerateRequest { Request = Google.Protobuf.ByteString.CopyFrom(requestBytes), Validation = true };
        var tokens = new List<int>();
        Receipt? receipt = null;
        using (var call = client.Generate(generate))
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                var e = call.ResponseStream.Current;
                if (e.EventCase == GenerateEvent.EventOneofCase.Token && e.Token.Id >= 0) tokens.Add(e.Token.Id);
                if (e.EventCase == GenerateEvent.EventOneofCase.Done) receipt = Receipt.Decode(e.Done.Receipt.Span);
            }
        }
        Assert.NotNull(receipt);
        TraceRequest Ask(IEnumerable<int> generated, int layer = -1, int steps = 0)
        {
            var t = new TraceRequest { Request = Google.Protobuf.ByteString.CopyFrom(requestBytes), CaptureLayer = layer, CaptureSteps = steps };
            t.Generated.AddRange(generated);
            return t;
        }
        var reply = await client.TraceAsync(Ask(tokens, 1, 3));
        int steps = request.PromptTokens.Count + tokens.Count - 1;
        Assert.Equal(steps, reply.StepRoots.Count);
        Assert.Equal(steps * reply.Layers, reply.LayerHashes.Count);
        Assert.Equal(3, reply.Captured.Count);
        var roots = Enumerable.Range(0, steps).Select(s => TraceMerkle.Root(Enumerable.Range(0, reply.Layers).Select(l => new Hash256(reply.LayerHashes[s * reply.Layers + l].Span)).ToArray())).ToArray();
        Assert.Equal(receipt!.TraceRoot, TraceMerkle.Root(roots));
        Assert.Equal(roots, reply.StepRoots.Select(r => new Hash256(r.Span)).ToArray());
        Assert.Equal(new Hash256(System.Security.Cryptography.SHA256.HashData(reply.Captured[2].Span)), new Hash256(reply.LayerHashes[2 * reply.Layers + 1].Span));

        async Task<RpcException> Refused(TraceRequest t) => await Assert.ThrowsAsync<RpcException>(async () => await client.TraceAsync(t));
        var malformed = await Refused(new TraceRequest { Request = Google.Protobuf.ByteString.CopyFrom([1, 2, 3]), CaptureLayer = -1 });
        Assert.Equal(StatusCode.InvalidArgument, malformed.StatusCode);
        Assert.Contains("malformed request", malformed.Status.Detail);
        var tooMany = await Refused(Ask(Enumerable.Repeat(1, request.MaxTokens + 1)));
        Assert.Equal(StatusCode.InvalidArgument, tooMany.StatusCode);
        Assert.Contains("generated", tooMany.Status.Detail);
        var none = await Refused(Ask([]));
        Assert.Contains("generated: 0 tokens", none.Status.Detail);
        var layer = await Refused(Ask(tokens, reply.Layers, 1));
        Assert.Contains($"capture_layer {reply.Layers} is out of range", layer.Status.Detail);
        var stepsOut = await Refused(Ask(tokens, 0, steps + 1));
        Assert.Contains("capture_steps", stepsOut.Status.Detail);
        var vocab = await Refused(Ask([.. tokens[..^1], int.MaxValue]));
        Assert.Contains("outside the vocabulary", vocab.Status.Detail);
        var unsigned = new TraceRequest { Request = Google.Protobuf.ByteString.CopyFrom(requestBytes[..^1].Append((byte)(requestBytes[^1] ^ 1)).ToArray()), CaptureLayer = -1 };
        unsigned.Generated.AddRange(tokens);
        var signature = await Refused(unsigned);
        Assert.Contains(signature.StatusCode, new[] { StatusCode.PermissionDenied, StatusCode.InvalidArgument });
    }

    private static Dictionary<string, (long, bool)> Accounts(JsonElement report) =>
        report.GetProperty("providers").EnumerateArray().ToDictionary(p => p.GetProperty("id").GetString()!, p => (p.GetProperty("stake").GetInt64(), p.GetProperty("eligible").GetBoolean()));

    private static async Task<string> Complete(Devnet net, string prompt, int seed)
    {
        using var response = await net.Http.PostAsJsonAsync("/v1/completions", new { model = Devnet.ModelName, prompt, max_tokens = 16, temperature = 1.0, seed });
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body + "\n" + net.Logs());
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("id").GetString()!;
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
