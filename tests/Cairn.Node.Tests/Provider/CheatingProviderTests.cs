using Cairn.Engine.Gguf;
using Cairn.Engine.Models;
using Cairn.Engine.Tensors;
using Cairn.Engine.Verification;
using Cairn.Node.Provider;
using Cairn.Node.Rpc;
using Cairn.Node.Tests.TestSupport;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Messages;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cairn.Node.Tests.Provider;

/// <summary>
/// The FAULT INJECTION cheaters of <see cref="ProviderFaults"/>, called in process: for the same signed request each one
/// commits to another output than an honest provider, and (except the receipt-only forgeries) its own replay of the
/// generation through its transformer — what the Trace RPC answers a dispute with — gives the trace root it signed.
/// </summary>
public sealed class CheatingProviderTests : IDisposable
{
    private static readonly int[] Prompt = [1, 403, 261, 378, 306, 262];
    private readonly Secp256k1Key _client = Secp256k1Key.Generate(System.Security.Cryptography.RandomNumberGenerator.Create());
    private readonly string _folder = Directory.CreateTempSubdirectory("cairn-cheaters-").FullName;

    public void Dispose()
    {
        _client.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private sealed record Answer(int[] Tokens, DoneEvent Done, Receipt Receipt, ServedModel Model);

    private byte[] Request(ulong seed, int maxTokens = 12)
    {
        using var file = File.OpenRead(Devnet.ModelPath);
        return new InferenceRequest
        {
            ModelHash = new Hash256(System.Security.Cryptography.SHA256.HashData(file)),
            PromptTokens = Prompt,
            Sampling = new SamplingParameters { Temperature = 1f, TopK = 0, TopP = 1f, MinP = 0f },
            Seed = seed,
            MaxTokens = maxTokens,
            PriceLimit = 1_000_000,
            Client = _client.Address,
            Nonce = seed,
        }.Sign(_client).Encode();
    }

    /// <summary>Serves <paramref name="request"/> on a fresh provider with <paramref name="fault"/> and keeps its model for a replay.</summary>
    private static async Task<Answer> Serve(string? fault, byte[] request, bool validation = false, List<IDisposable>? keep = null)
    {
        var faults = ProviderFaults.Parse(fault);
        var model = ServedModel.Load(Devnet.ModelPath, null, null, threads: 1, faults: faults);
        var key = Secp256k1Key.Generate(System.Security.Cryptography.RandomNumberGenerator.Create());
        var state = new ProviderState(key, [model], 1, faults);
        if (keep != null) keep.Add(state);
        try
        {
            var writer = new CollectingWriter<GenerateEvent>();
            await new ProviderService(state, NullLogger<ProviderService>.Instance).Generate(
                new GenerateRequest { Request = Google.Protobuf.ByteString.CopyFrom(request), Validation = validation }, writer, new TestCallContext());
            var done = writer.Written.Single(e => e.EventCase == GenerateEvent.EventOneofCase.Done).Done;
            var receipt = Receipt.Decode(done.Receipt.Span);
            Assert.True(receipt.Verify(InferenceRequest.Decode(request)).IsValid);
            int[] tokens = writer.Written.Where(e => e.EventCase == GenerateEvent.EventOneofCase.Token && e.Token.Id >= 0).Select(e => e.Token.Id).ToArray();
            return new Answer(tokens, done, receipt, model);
        }
        finally
        {
            if (keep == null) state.Dispose();
        }
    }

    /// <summary>The provider's own replay of what it streamed (prompt, then every generated token but the last).</summary>
    private static byte[] Replay(Answer a) => TraceExport.Replay(a.Model.Transformer, [.. Prompt, .. a.Tokens[..^1]]).TraceRoot;

    private string SmallerModel()
    {
        string path = Path.Combine(_folder, "smaller.gguf");
        using var file = GgufFile.Open(Devnet.ModelPath);
        GgufWriter.CopyOf(file, t => !t.Name.StartsWith("blk.", StringComparison.Ordinal) || t.Name.StartsWith("blk.0.", StringComparison.Ordinal) || t.Name.StartsWith("blk.1.", StringComparison.Ordinal))
            .Set("llama.block_count", 2u).Write(path);
        return path;
    }

    public static TheoryData<string> ComputingCheats() => new()
    {
        "wrong-seed", "cheaper-type:Q4_0", "cheaper-type:F16", "skip-layers:1", "skip-layers:0,3", "random-tokens", "truncate:3",
        "forge-layer-hashes", "forge-layer-hashes:0", "substitute-model:SMALLER",
    };

    [Theory]
    [MemberData(nameof(ComputingCheats))]
    public async Task A_cheater_commits_to_another_output_and_its_replay_matches_its_receipt(string fault)
    {
        fault = fault.Replace("SMALLER", SmallerModel(), StringComparison.Ordinal);
        byte[] request = Request(seed: 11);
        var keep = new List<IDisposable>();
        try
        {
            var honest = await Serve(null, request, keep: keep);
            var cheater = await Serve(fault, request, keep: keep);
            Assert.NotEqual(honest.Receipt.OutputCommitment, cheater.Receipt.OutputCommitment);
            Assert.Equal(cheater.Receipt.TraceRoot.ToArray(), Replay(cheater));
            Assert.Equal(honest.Receipt.TraceRoot.ToArray(), Replay(honest));
            Assert.Equal(Engine.Commitments.OutputCommitment.Compute(cheater.Tokens, cheater.Receipt.TraceRoot.ToArray()), cheater.Receipt.OutputCommitment.ToArray());
            Assert.Equal(12, honest.Tokens.Length);
            // It announces and signs under the real model either way.
            Assert.Equal(honest.Model.Hash, cheater.Model.Hash);
            Assert.Equal(honest.Model.Name, cheater.Model.Name);
        }
        finally
        {
            foreach (var d in keep) d.Dispose();
        }
    }

    [Fact]
    public async Task Random_tokens_come_from_the_request_hash_and_truncation_reports_a_stop()
    {
        byte[] request = Request(seed: 12);
        var a = await Serve("random-tokens", request);
        var b = await Serve("random-tokens", request);
        var other = await Serve("random-tokens", Request(seed: 13));
        Assert.Equal(a.Tokens, b.Tokens);
        Assert.NotEqual(a.Tokens, other.Tokens);

        var truncated = await Serve("truncate:3", request);
        Assert.Equal(3, truncated.Tokens.Length);
        Assert.Equal(("stop", 3), (truncated.Done.FinishReason, truncated.Receipt.CompletionTokens));
    }

    [Fact]
    public async Task Forge_commitment_keeps_the_honest_tokens_and_trace()
    {
        byte[] request = Request(seed: 14);
        var honest = await Serve(null, request);
        var forger = await Serve("forge-commitment", request);
        Assert.Equal(honest.Tokens, forger.Tokens);
        Assert.Equal(honest.Receipt.TraceRoot, forger.Receipt.TraceRoot);
        Assert.NotEqual(honest.Receipt.OutputCommitment, forger.Receipt.OutputCommitment);
    }

    [Fact]
    public async Task A_lazy_validator_guesses_without_computing_and_is_honest_as_an_asserter()
    {
        byte[] request = Request(seed: 15);
        var honest = await Serve(null, request);
        var asAsserter = await Serve("lazy-validator", request);
        Assert.Equal(honest.Receipt.OutputCommitment, asAsserter.Receipt.OutputCommitment);
        Assert.Equal(honest.Tokens, asAsserter.Tokens);

        var asValidator = await Serve("lazy-validator", request, validation: true);
        Assert.Empty(asValidator.Tokens); // nothing computed, nothing streamed
        Assert.NotEqual(honest.Receipt.OutputCommitment, asValidator.Receipt.OutputCommitment);
        Assert.Equal(12, asValidator.Receipt.CompletionTokens);
        // An honest validator computes and agrees.
        Assert.Equal(honest.Receipt.OutputCommitment, (await Serve(null, request, validation: true)).Receipt.OutputCommitment);
    }

    [Theory]
    [InlineData("wrong-seed")]
    [InlineData("random-tokens")]
    [InlineData("truncate:2")]
    [InlineData("forge-commitment")]
    public async Task Colluders_cover_for_each_other_and_validate_everyone_else_honestly(string cheat)
    {
        string cartel = Path.Combine(_folder, "cartel");
        string fault = $"{cheat},collude:{cartel}";
        byte[] partners = Request(seed: 16), strangers = Request(seed: 17);

        var asserter = await Serve(fault, partners);
        Assert.True(File.Exists(Path.Combine(cartel, InferenceRequest.Decode(partners).Hash().ToString())));
        var honest = await Serve(null, partners);
        Assert.NotEqual(honest.Receipt.OutputCommitment, asserter.Receipt.OutputCommitment); // it cheats as an asserter
        var partner = await Serve(fault, partners, validation: true);
        Assert.Equal(asserter.Receipt.OutputCommitment, partner.Receipt.OutputCommitment); // and its partner agrees: undetected

        // A request no colluder answered is validated honestly.
        var honestStranger = await Serve(null, strangers);
        var validator = await Serve(fault, strangers, validation: true);
        Assert.Equal(honestStranger.Receipt.OutputCommitment, validator.Receipt.OutputCommitment);
        Assert.False(File.Exists(Path.Combine(cartel, InferenceRequest.Decode(strangers).Hash().ToString())));
    }

    [Fact]
    public void A_substitute_of_another_vocabulary_or_a_non_cheaper_type_is_refused_at_load()
    {
        string other = Path.Combine(_folder, "other-vocab.gguf");
        SyntheticModel.Write(other, new SyntheticModelSpec { Dim = 64, HiddenDim = 128, Heads = 4, KvHeads = 4, ContextLength = 256 });
        var e = Assert.Throws<ArgumentException>(() => ServedModel.Load(Devnet.ModelPath, null, null, 1, faults: ProviderFaults.Parse("substitute-model:" + other)));
        Assert.Contains("vocabulary has 448 tokens, the served model's 512", e.Message);
        Assert.Throws<FileNotFoundException>(() => ServedModel.Load(Devnet.ModelPath, null, null, 1, faults: ProviderFaults.Parse("substitute-model:" + Path.Combine(_folder, "none.gguf"))));
        e = Assert.Throws<ArgumentException>(() => ServedModel.Load(Devnet.ModelPath, null, null, 1, faults: ProviderFaults.Parse("skip-layers:4")));
        Assert.Contains("layer 4 is outside 0 to 3", e.Message);
        e = Assert.Throws<ArgumentException>(() => ServedModel.Load(Devnet.ModelPath, null, null, 1, faults: ProviderFaults.Parse("forge-layer-hashes:9")));
        Assert.Contains("outside 0 to 3", e.Message);

        string f32 = Path.Combine(_folder, "f32.gguf");
        SyntheticModel.Write(f32, new SyntheticModelSpec { Dim = 64, HiddenDim = 128, Heads = 4, KvHeads = 4, WeightType = GgmlType.Q8_0 });
        e = Assert.Throws<ArgumentException>(() => ServedModel.Load(f32, null, null, 1, faults: ProviderFaults.Parse("cheaper-type:Q8_0")));
        Assert.Contains("already Q8_0", e.Message);
    }
}
