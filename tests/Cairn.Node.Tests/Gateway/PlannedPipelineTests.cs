using System.Security.Cryptography;
using System.Text.Json;
using Cairn.Engine.Models;
using Cairn.Engine.Tensors;
using Cairn.Node.Provider;
using Cairn.Node.Rpc;
using Cairn.Node.Tests.TestSupport;
using Cairn.Planner;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit.Abstractions;
using SignedAssignment = Cairn.Protocol.Messages.StageAssignment;

namespace Cairn.Node.Tests.Gateway;

/// <summary>
/// Planned pipelines (issue 8, docs/pipeline.md "Planned pipelines") with real processes: flexible stages
/// (<c>cairn node --layers auto</c>, emulated devices of different <c>--memory</c> and <c>--slowdown</c>) serve a
/// model through the gateway, which assigns their ranges with <see cref="Planner.Planner.Plan"/>, leaves out the device
/// that would slow the pipeline, and re-plans between requests when a device is slowed down at run time — the answers
/// bit-identical to a single process throughout. No time is asserted (the figures are in docs/pipeline.md).
/// </summary>
public sealed class PlannedPipelineTests(ITestOutputHelper output)
{
    private static readonly Lazy<string> ModelFile = new(() =>
    {
        string path = Path.Combine(Path.GetTempPath(), $"cairn-planned-{Guid.NewGuid():N}"[..24] + ".gguf");
        SyntheticModel.Write(path, new SyntheticModelSpec { WeightType = GgmlType.Q8_0, Dim = 256, HiddenDim = 768, Layers = 8, ContextLength = 256, Seed = 8 });
        return path;
    });

    private static string ModelName => Path.GetFileNameWithoutExtension(ModelFile.Value);

    [Fact]
    public async Task The_gateway_serves_the_planners_plan_and_leaves_out_the_device_that_would_slow_it()
    {
        await using var net = await Devnet.StartAsync(providers: 0);
        // Three devices that together hold the model, and a very slow one that could hold it alone.
        var devices = await Task.WhenAll(
            Flexible(net, "4MB", 2), Flexible(net, "4MB", 3), Flexible(net, "8MB", 4), Flexible(net, "20MB", 300));
        var (text, id) = await Complete(net, 0f, 1);
        await PipelineAnswers.AssertSingleProcess(net, ModelFile.Value, id, text, output);

        var view = await Pipeline(net);
        output.WriteLine(view.ToString());
        var planned = Planner.Planner.Plan(ModelProfile.FromGguf(ModelFile.Value), Devices(view), new PlanOptions());
        Assert.Equal(planned.Stages.Select(s => (s.DeviceId, s.FirstLayer, s.EndLayer - 1)), Stages(view));
        Assert.DoesNotContain(devices[3].Id, Stages(view).Select(s => s.Device));
        Assert.Contains(planned.Devices, d => d.DeviceId == devices[3].Id && !d.Used);
        Assert.Equal("dp", view.GetProperty("method").GetString());
        Assert.True(view.GetProperty("predicted_seconds_per_token").GetDouble() > 0);
    }

    [Fact]
    public async Task A_device_slowed_at_run_time_loses_its_layers_at_the_next_replan_and_answers_stay_bit_identical()
    {
        await using var net = await Devnet.StartAsync(providers: 0);
        // Three equal devices; two of them hold the model (the fewest that fit), the third waits.
        var devices = await Task.WhenAll(Flexible(net, "7MB", 4), Flexible(net, "7MB", 4), Flexible(net, "7MB", 4));
        var (text, id) = await Complete(net, 0.8f, 5);
        await PipelineAnswers.AssertSingleProcess(net, ModelFile.Value, id, text, output);
        var before = Stages(await Pipeline(net));
        var slowed = before.OrderByDescending(s => s.Last - s.First).First().Device;
        output.WriteLine($"before: {string.Join(", ", before)}; slowing {slowed}");

        using (var channel = GrpcChannel.ForAddress(Endpoint(devices.Single(d => d.Id == slowed))))
        {
            var reply = await new Stage.StageClient(channel).SetSlowdownAsync(new StageSlowdownRequest { Slowdown = 60 });
            Assert.Equal(60, reply.Slowdown);
        }
        // The next request runs on the running plan and measures the slowed device; the one after starts on a new plan.
        (text, id) = await Complete(net, 0.8f, 6);
        await PipelineAnswers.AssertSingleProcess(net, ModelFile.Value, id, text, output);
        (text, id) = await Complete(net, 0f, 7);
        await PipelineAnswers.AssertSingleProcess(net, ModelFile.Value, id, text, output);

        string line = await net.Gateway.WaitForLine(l => l.Contains("re-planned", StringComparison.Ordinal) && l.Contains("measured speeds", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        output.WriteLine(line);
        var after = Stages(await Pipeline(net));
        output.WriteLine($"after: {string.Join(", ", after)}");
        int Held(IEnumerable<(string Device, int First, int Last)> stages) => stages.Where(s => s.Device == slowed).Sum(s => s.Last - s.First + 1);
        Assert.True(Held(after) < Held(before), $"{slowed} held {Held(before)} layers and now {Held(after)}");
        Assert.True((await Pipeline(net)).GetProperty("replans").GetInt32() >= 1);
    }

    [Fact]
    public async Task A_flexible_stage_killed_mid_generation_is_planned_around_and_the_answer_equals_the_undisturbed_run()
    {
        await using var net = await Devnet.StartAsync(providers: 0);
        // Two of three equal devices serve (slowed so that the kill lands mid-generation); the third takes over.
        var devices = await Task.WhenAll(Flexible(net, "7MB", 40), Flexible(net, "7MB", 40), Flexible(net, "7MB", 40));
        await Complete(net, 0f, 1); // the first plan
        var serving = Stages(await Pipeline(net)).Select(s => s.Device).ToList();
        var victim = devices.First(d => serving.Contains(d.Id));

        var (text, id) = await PipelineAnswers.Complete(net, ModelName, 0.8f, 77, stream: true, firstPiece: () =>
        {
            victim.Process.Kill();
            return Task.CompletedTask;
        });
        await net.Gateway.WaitForLine(l => l.Contains("replaying", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        await PipelineAnswers.AssertSingleProcess(net, ModelFile.Value, id, text, output);
        var after = Stages(await Pipeline(net));
        output.WriteLine($"serving {string.Join(", ", serving)}; killed {victim.Id}; now {string.Join(", ", after)}");
        Assert.DoesNotContain(victim.Id, after.Select(s => s.Device));
        Assert.Equal(0, after[0].First);
        Assert.Equal(7, after[^1].Last);
    }

    [Fact]
    public async Task A_load_beyond_the_memory_budget_is_refused_and_nothing_changes()
    {
        await using var keys = new GatewayKey();
        await using var net = await Devnet.StartWithGatewayArgsAsync(0, keys.Args);
        var flexible = await Flexible(net, "4MB", 1);
        var fixedStage = await net.AddNodeAsync(ModelFile.Value, ["--layers", "0:2", "--memory", "4MB"]);
        using var channel = GrpcChannel.ForAddress(Endpoint(flexible));
        var stage = new Stage.StageClient(channel);
        var profile = await stage.ProfileAsync(new StageProfileRequest());

        var refused = await Assert.ThrowsAsync<RpcException>(() => stage.LoadAsync(keys.Load(flexible, 0, 8)).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("more than the memory budget of 4,000,000 bytes", refused.Status.Detail, StringComparison.Ordinal);
        var unchanged = await stage.ProfileAsync(new StageProfileRequest());
        Assert.Equal((profile.LayerStart, profile.LayerEnd), (unchanged.LayerStart, unchanged.LayerEnd));

        var loaded = await stage.LoadAsync(keys.Load(flexible, 5, 7));
        Assert.Equal((5, 7), (loaded.LayerStart, loaded.LayerEnd));
        Assert.True(loaded.MemoryBytes <= 4_000_000);
        var now = await stage.ProfileAsync(new StageProfileRequest());
        Assert.Equal((5, 7), (now.LayerStart, now.LayerEnd));

        using var fixedChannel = GrpcChannel.ForAddress(Endpoint(fixedStage));
        var notFlexible = await Assert.ThrowsAsync<RpcException>(() => new Stage.StageClient(fixedChannel).LoadAsync(keys.Load(fixedStage, 2, 4)).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, notFlexible.StatusCode);
    }

    [Fact]
    public async Task A_load_not_signed_for_this_stage_by_its_gateway_or_replayed_is_refused_and_the_range_is_unchanged()
    {
        await using var keys = new GatewayKey();
        await using var net = await Devnet.StartWithGatewayArgsAsync(0, keys.Args);
        Assert.Equal(keys.Address.ToString(), net.GatewayId);
        var flexible = await Flexible(net, "4MB", 1);
        var other = await Flexible(net, "4MB", 1);
        using var channel = GrpcChannel.ForAddress(Endpoint(flexible));
        var stage = new Stage.StageClient(channel);
        var start = await stage.ProfileAsync(new StageProfileRequest());
        Assert.NotEqual((2, 4), (start.LayerStart, start.LayerEnd));

        async Task Refused(StageLoadRequest request, StatusCode code, string detail)
        {
            var e = await Assert.ThrowsAsync<RpcException>(() => stage.LoadAsync(request).ResponseAsync);
            output.WriteLine($"{e.StatusCode}: {e.Status.Detail}");
            Assert.Equal(code, e.StatusCode);
            Assert.Contains(detail, e.Status.Detail, StringComparison.Ordinal);
            var now = await stage.ProfileAsync(new StageProfileRequest());
            Assert.Equal((start.LayerStart, start.LayerEnd), (now.LayerStart, now.LayerEnd));
        }

        // No assignment at all, and bytes that are not one.
        await Refused(new StageLoadRequest { LayerStart = 2, LayerEnd = 4 }, StatusCode.Unauthenticated, "signed stage assignment");
        await Refused(new StageLoadRequest { LayerStart = 2, LayerEnd = 4, Assignment = ByteString.CopyFrom(1, 2, 3) }, StatusCode.InvalidArgument, "malformed stage assignment");
        // A well-signed assignment by another key (it names its own address as the gateway).
        using (var stranger = Secp256k1Key.Generate(RandomNumberGenerator.Create()))
            await Refused(GatewayKey.Load(stranger, flexible, 2, 4, keys.NextIssued()), StatusCode.PermissionDenied, $"signed by gateway {stranger.Address}, not by this stage's gateway {keys.Address}");
        // The gateway's signature over an assignment that names the gateway but was signed by another key.
        using (var stranger = Secp256k1Key.Generate(RandomNumberGenerator.Create()))
        {
            var forged = new SignedAssignment
            {
                ModelHash = keys.ModelHash,
                FirstLayer = 2,
                EndLayer = 4,
                Stage = Address.Parse(flexible.Id),
                IssuedMs = keys.NextIssued(),
                Gateway = keys.Address,
            };
            byte[] wire = [.. forged.EncodeBody(), .. stranger.Sign(forged.Hash()).ToArray()];
            await Refused(new StageLoadRequest { LayerStart = 2, LayerEnd = 4, Assignment = ByteString.CopyFrom(wire) }, StatusCode.PermissionDenied, "wrong_signer");
        }
        // The gateway's own assignment, but addressed to the other stage.
        await Refused(keys.Load(other, 2, 4), StatusCode.PermissionDenied, $"addressed to stage {other.Id}");
        // The gateway's own assignment of another range than the request names.
        var mismatched = keys.Load(flexible, 2, 4);
        mismatched.LayerEnd = 5;
        await Refused(mismatched, StatusCode.InvalidArgument, "not the signed assignment's 2:4");
        // Issued too long ago (a captured order kept for later).
        await Refused(keys.Load(flexible, 2, 4, keys.NextIssued() - (ulong)StageService.MaxAssignmentSkew.TotalMilliseconds - 60_000), StatusCode.PermissionDenied, "stale");

        // The gateway's assignment is obeyed once; the same bytes again, or an older one, are replays.
        var first = keys.Load(flexible, 2, 4);
        var older = keys.Load(flexible, 1, 3, GatewayKey.IssuedOf(first) - 1);
        var loaded = await stage.LoadAsync(first);
        Assert.Equal((2, 4), (loaded.LayerStart, loaded.LayerEnd));
        start = await stage.ProfileAsync(new StageProfileRequest());
        Assert.Equal((2, 4), (start.LayerStart, start.LayerEnd));
        await Refused(first, StatusCode.PermissionDenied, "replayed");
        await Refused(older, StatusCode.PermissionDenied, "replayed");
        // A newer one from the gateway is obeyed.
        var next = await stage.LoadAsync(keys.Load(flexible, 3, 5));
        Assert.Equal((3, 5), (next.LayerStart, next.LayerEnd));
    }

    [Theory]
    [InlineData("ipv4:127.0.0.1:5000", true)]
    [InlineData("ipv6:[::1]:5000", true)]
    [InlineData("ipv4:10.1.2.3:5000", false)]
    [InlineData("ipv6:[2001:db8::1]:443", false)]
    [InlineData("unix:/tmp/socket", false)]
    [InlineData("", false)]
    public void The_slowdown_control_accepts_only_loopback_callers(string peer, bool accepted) =>
        Assert.Equal(accepted, StageService.IsLoopback(peer));

    private static async Task<Devnet.ProviderProcess> Flexible(Devnet net, string memory, double slowdown) =>
        await net.AddNodeAsync(ModelFile.Value, ["--layers", "auto", "--memory", memory, "--slowdown", slowdown.ToString(System.Globalization.CultureInfo.InvariantCulture)]);

    /// <summary>The node's gRPC address, from its first line (<c>provider: id=… grpc=URL …</c>).</summary>
    private static string Endpoint(Devnet.ProviderProcess p) =>
        p.Process.Output.Split('\n').First(l => l.Contains("provider: id=", StringComparison.Ordinal)).Split(' ').First(w => w.StartsWith("grpc=", StringComparison.Ordinal))["grpc=".Length..];

    private static async Task<JsonElement> Pipeline(Devnet net)
    {
        using var doc = JsonDocument.Parse(await net.Http.GetStringAsync("/v1/pipeline"));
        return doc.RootElement.Clone();
    }

    private static List<(string Device, int First, int Last)> Stages(JsonElement view) =>
        [.. view.GetProperty("stages").EnumerateArray().Select(s => (s.GetProperty("device").GetString()!, s.GetProperty("first_layer").GetInt32(), s.GetProperty("last_layer").GetInt32()))];

    /// <summary>The devices as the gateway planned with them (memory, decode speed, link), from <c>/v1/pipeline</c>.</summary>
    private static List<DeviceProfile> Devices(JsonElement view) =>
        [.. view.GetProperty("devices").EnumerateArray().Select(d => new DeviceProfile(d.GetProperty("device").GetString()!, d.GetProperty("memory_bytes").GetInt64(),
            d.GetProperty("decode_bytes_per_second").GetDouble(), 1, d.GetProperty("link_latency_seconds").GetDouble(), 1e9))];

    private static async Task<(string Text, string Id)> Complete(Devnet net, float temperature, ulong seed)
    {
        string body = JsonSerializer.Serialize(new { model = ModelName, prompt = "Once upon a time", max_tokens = 40, temperature, seed, top_k = 40 });
        using var response = await net.Http.PostAsync("/v1/completions", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        string json = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, json + "\n" + net.Logs());
        using var doc = JsonDocument.Parse(json);
        return (doc.RootElement.GetProperty("choices")[0].GetProperty("text").GetString()!, doc.RootElement.GetProperty("id").GetString()!);
    }

    /// <summary>
    /// A gateway identity the test knows (<c>cairn gateway --key</c>), so the test can sign stage assignments as the gateway
    /// does — and as nobody else can.
    /// </summary>
    private sealed class GatewayKey : IAsyncDisposable
    {
        private const string PassphraseVariable = "CAIRN_TEST_STAGE_AUTH_PASSPHRASE";
        private readonly string _directory = Path.Combine(Path.GetTempPath(), "cairn-stage-auth-" + Guid.NewGuid().ToString("N")[..12]);
        private readonly Secp256k1Key _key = Secp256k1Key.Generate(RandomNumberGenerator.Create());
        private ulong _issued = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        public GatewayKey()
        {
            Directory.CreateDirectory(_directory);
            Environment.SetEnvironmentVariable(PassphraseVariable, "stage auth test");
            KeyFile.Save(Path.Combine(_directory, "gateway.key"), _key, "stage auth test", RandomNumberGenerator.Create(), iterations: 1_000);
        }

        public string[] Args => ["--key", Path.Combine(_directory, "gateway.key"), "--passphrase-env", PassphraseVariable];
        public Address Address => _key.Address;
        public Hash256 ModelHash { get; } = new(SHA256.HashData(File.ReadAllBytes(ModelFile.Value)));

        /// <summary>Later than anything the gateway process issued so far, and than this helper's last value.</summary>
        public ulong NextIssued() => _issued = Math.Max(_issued + 1, (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 1);

        public StageLoadRequest Load(Devnet.ProviderProcess stage, int first, int end, ulong? issued = null) => Load(_key, stage, first, end, issued ?? NextIssued());

        public static StageLoadRequest Load(Secp256k1Key key, Devnet.ProviderProcess stage, int first, int end, ulong issued) => new()
        {
            LayerStart = first,
            LayerEnd = end,
            Assignment = ByteString.CopyFrom(new SignedAssignment
            {
                ModelHash = new Hash256(SHA256.HashData(File.ReadAllBytes(ModelFile.Value))),
                FirstLayer = first,
                EndLayer = end,
                Stage = Address.Parse(stage.Id),
                IssuedMs = issued,
                Gateway = key.Address,
            }.Sign(key).Encode()),
        };

        public static ulong IssuedOf(StageLoadRequest request) => SignedAssignment.Decode(request.Assignment.Span).IssuedMs;

        public ValueTask DisposeAsync()
        {
            _key.Dispose();
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
            }
            return ValueTask.CompletedTask;
        }
    }
}
