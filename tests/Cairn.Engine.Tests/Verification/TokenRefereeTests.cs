using System.Security.Cryptography;
using Cairn.Engine.Commitments;
using Cairn.Engine.Generation;
using Cairn.Engine.Inference;
using Cairn.Engine.Models;
using Cairn.Engine.Sampling;
using Cairn.Engine.Tensors;
using Cairn.Engine.Tests.TestSupport;
using Cairn.Engine.Verification;

namespace Cairn.Engine.Tests.Verification;

/// <summary>
/// The sampling-dispute referee: from the agreed final hidden state of the step before index i and the sampler restored
/// to index i (<see cref="Sampler.Resume"/>), it names the token the generator sampled at i — at every index, with
/// seeded sampling through every stage (temperature, top-k, top-p, min-p, repetition penalty), with 1 or 2 threads.
/// </summary>
public class TokenRefereeTests
{
    private static readonly int[] Prompt = [1, 7, 42, 99, 3, 250, 7, 42];

    public static TheoryData<int, float, int, float, float, float, int> Settings => new()
    {
        // threads, temperature, top-k, top-p, min-p, repeat penalty, repeat-last-n
        { 1, 0.9f, 40, 0.95f, 0.05f, 1.3f, 16 },
        { 2, 0.9f, 40, 0.95f, 0.05f, 1.3f, 16 },
        { 1, 1.5f, 0, 0.8f, 0f, 1.1f, 64 },
        { 2, 0.7f, 5, 1f, 0.1f, 0.8f, 3 },
        { 2, 0f, 40, 0.95f, 0.05f, 1.5f, 8 },
    };

    [Theory]
    [MemberData(nameof(Settings))]
    public void The_replayed_token_equals_the_generators_at_every_index(int threads, float temperature, int topK, float topP, float minP, float penalty, int lastN)
    {
        var t = new Transformer(Model.Load(SyntheticModels.Path(GgmlType.Q8_0)), threads);
        var sampling = new SamplingOptions { Temperature = temperature, TopK = topK, TopP = topP, MinP = minP, RepeatPenalty = penalty, RepeatLastN = lastN, Seed = 0xC0FFEE };
        const int max = 24;
        var result = new Generator(t).Generate(Prompt, new GenerationOptions { MaxTokens = max, Sampling = sampling, Commitment = true, StopAtEndOfGeneration = false });
        Assert.Equal(max, result.Tokens.Length);
        if (temperature > 0) Assert.True(result.Tokens.Distinct().Count() > 3, "the sampling is not trivial");

        // The honest trace with the last layer's outputs, as a party hands them over.
        int last = t.Config.Layers - 1;
        var trace = TraceExport.Replay(t, [.. Prompt, .. result.Tokens[..^1]], last);
        for (int i = 0; i <= max; i++)
        {
            int step = Prompt.Length + i - 1;
            var c = new TokenCase
            {
                Prompt = Prompt,
                Generated = result.Tokens[..i],
                Sampling = sampling,
                MaxTokens = max,
                StopAtEndOfGeneration = false,
                FinalHidden = i < max ? trace.Captured![step] : null,
                AgreedFinalHash = i < max ? trace.LayerHashes[step][last] : null,
            };
            var ruling = TokenReferee.Decide(t, c);
            if (i == max)
            {
                Assert.Equal((TokenReferee.End, "length"), (ruling.Token, ruling.Reason));
                continue;
            }
            Assert.Equal((result.Tokens[i], "sampled"), (ruling.Token, ruling.Reason));
            Assert.Equal(trace.LayerHashes[step][last], ruling.HiddenHash);
        }
    }

    [Fact]
    public void Without_an_agreed_hidden_state_the_referee_replays_the_prefix_and_gets_the_same_token()
    {
        var t = new Transformer(Model.Load(SyntheticModels.Path(GgmlType.Q8_0)), 2);
        var sampling = new SamplingOptions { Temperature = 1f, RepeatPenalty = 1.2f, Seed = 99 };
        var result = new Generator(t).Generate(Prompt, new GenerationOptions { MaxTokens = 12, Sampling = sampling, StopAtEndOfGeneration = false });
        foreach (int i in new[] { 0, 5, 11 })
        {
            var ruling = TokenReferee.Decide(t, new TokenCase { Prompt = Prompt, Generated = result.Tokens[..i], Sampling = sampling, MaxTokens = 12, StopAtEndOfGeneration = false });
            Assert.Equal(result.Tokens[i], ruling.Token);
        }
    }

    [Fact]
    public void Another_seed_gives_another_token_somewhere_and_the_referee_sides_with_the_request_seed()
    {
        var t = new Transformer(Model.Load(SyntheticModels.Path(GgmlType.Q8_0)), 1);
        var sampling = new SamplingOptions { Temperature = 1f, TopK = 0, TopP = 1f, MinP = 0f, Seed = 7 };
        var honest = new Generator(t).Generate(Prompt, new GenerationOptions { MaxTokens = 16, Sampling = sampling, StopAtEndOfGeneration = false }).Tokens;
        var cheat = new Generator(t).Generate(Prompt, new GenerationOptions { MaxTokens = 16, Sampling = sampling with { Seed = 8 }, StopAtEndOfGeneration = false }).Tokens;
        int i = Enumerable.Range(0, 16).First(k => honest[k] != cheat[k]);
        var ruling = TokenReferee.Decide(t, new TokenCase { Prompt = Prompt, Generated = honest[..i], Sampling = sampling, MaxTokens = 16, StopAtEndOfGeneration = false });
        Assert.Equal(honest[i], ruling.Token);
        Assert.NotEqual(cheat[i], ruling.Token);
    }

    [Fact]
    public void Generation_that_had_to_end_is_ruled_end_and_a_forged_hidden_row_is_refused()
    {
        var t = new Transformer(Model.Load(SyntheticModels.Path(GgmlType.Q8_0)), 1);
        var sampling = new SamplingOptions { Temperature = 1f, Seed = 3 };
        int eog = t.Model.Tokenizer!.EosId;
        Assert.Equal("stop", TokenReferee.Decide(t, new TokenCase { Prompt = Prompt, Generated = [5, eog], Sampling = sampling, MaxTokens = 10 }).Reason);
        Assert.Equal("stop-string", TokenReferee.Decide(t, new TokenCase { Prompt = Prompt, Generated = [5], Sampling = sampling, MaxTokens = 10, StoppedByString = true }).Reason);
        Assert.Equal("length", TokenReferee.Decide(t, new TokenCase { Prompt = Prompt, Generated = [], Sampling = sampling, MaxTokens = 0 }).Reason);
        Assert.Equal("sampled", TokenReferee.Decide(t, new TokenCase { Prompt = Prompt, Generated = [], Sampling = sampling, MaxTokens = 1 << 20 }).Reason);

        var row = TraceExport.Replay(t, Prompt, t.Config.Layers - 1).Captured![^1];
        var hash = SHA256.HashData(CanonicalFloats.Bytes(row));
        row[0] += 1f;
        var e = Assert.Throws<RefereeException>(() => TokenReferee.Decide(t, new TokenCase { Prompt = Prompt, Generated = [], Sampling = sampling, MaxTokens = 4, FinalHidden = row, AgreedFinalHash = hash }));
        Assert.Contains("does not hash to the agreed output", e.Message);
        Assert.Throws<RefereeException>(() => TokenReferee.Decide(t, new TokenCase { Prompt = Prompt, Generated = [t.Config.VocabSize], Sampling = sampling, MaxTokens = 4 }));
    }

    [Fact]
    public void Resume_restores_the_sampler_state_exactly()
    {
        var options = new SamplingOptions { Temperature = 1.2f, TopK = 0, TopP = 1f, MinP = 0f, RepeatPenalty = 1.4f, RepeatLastN = 4, Seed = 11 };
        var rng = new Random(5);
        var logits = Enumerable.Range(0, 40).Select(_ => Enumerable.Range(0, 64).Select(_ => (float)rng.NextDouble() * 4f).ToArray()).ToArray();
        int[] prompt = [3, 4, 5];
        var live = new Sampler(options);
        foreach (int p in prompt) live.Accept(p);
        var tokens = new List<int>();
        for (int i = 0; i < logits.Length; i++)
        {
            var resumed = Sampler.Resume(options, [.. prompt, .. tokens], i);
            int expected = resumed.Sample(logits[i].ToArray());
            tokens.Add(live.Sample(logits[i].ToArray()));
            Assert.Equal(tokens[^1], expected);
        }
        Assert.Throws<ArgumentException>(() => Sampler.Resume(options, [1, 2], 3));
    }
}
