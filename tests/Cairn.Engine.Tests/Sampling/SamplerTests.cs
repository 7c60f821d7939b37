using Cairn.Engine.Sampling;

namespace Cairn.Engine.Tests.Sampling;

public sealed class SamplerTests
{
    [Fact]
    public void Xoshiro_seeded_by_SplitMix64_matches_the_published_algorithm()
    {
        // Values from an independent Python transcription of splitmix64.c and xoshiro256starstar.c, seed 42.
        var rng = new Xoshiro256StarStar(42);
        Assert.Equal(0x15780b2e0c2ec716UL, rng.Next());
        Assert.Equal(0x6104d9866d113a7eUL, rng.Next());
        Assert.Equal(0xae17533239e499a1UL, rng.Next());
    }

    [Fact]
    public void Unit_float_uses_the_top_24_bits()
    {
        var a = new Xoshiro256StarStar(42);
        var b = new Xoshiro256StarStar(42);
        Assert.Equal((b.Next() >> 40) / 16777216f, a.NextUnitFloat());
        var c = new Xoshiro256StarStar(7);
        for (int i = 0; i < 10000; i++)
        {
            float u = c.NextUnitFloat();
            Assert.InRange(u, 0f, 0.99999995f);
        }
    }

    [Fact]
    public void Greedy_breaks_ties_toward_the_lower_token_id()
    {
        var s = new Sampler(SamplingOptions.Greedy);
        Assert.Equal(2, s.Sample(new float[] { 0f, 1f, 3f, 3f, -1f }));
    }

    [Fact]
    public void Top_k_of_one_is_greedy_whatever_the_seed()
    {
        var logits = new float[] { 0.1f, 2f, 1.9f, -3f };
        for (ulong seed = 0; seed < 20; seed++)
        {
            var s = new Sampler(new SamplingOptions { Temperature = 1.5f, TopK = 1, Seed = seed });
            Assert.Equal(1, s.Sample(logits.ToArray()));
        }
    }

    [Fact]
    public void Top_k_keeps_the_k_largest_logits_with_ties_going_to_the_lower_id()
    {
        var logits = new float[] { 1f, 3f, 3f, 3f, 2f, -1f };
        var seen = new HashSet<int>();
        for (ulong seed = 0; seed < 200; seed++)
        {
            var s = new Sampler(new SamplingOptions { Temperature = 1f, TopK = 2, TopP = 1f, MinP = 0f, Seed = seed });
            seen.Add(s.Sample(logits.ToArray()));
        }
        Assert.Equal([1, 2], seen.Order());
    }

    [Fact]
    public void Top_k_selection_samples_exactly_as_a_full_sort_would()
    {
        var rng = new Random(5);
        var logits = Enumerable.Range(0, 3000).Select(_ => (float)Math.Round(rng.NextDouble() * 20, 1)).ToArray(); // many ties
        var all = new Sampler(new SamplingOptions { Temperature = 0.7f, TopK = 0, TopP = 0.9f, MinP = 0.01f, Seed = 3 });
        var top = new Sampler(new SamplingOptions { Temperature = 0.7f, TopK = 3000, TopP = 0.9f, MinP = 0.01f, Seed = 3 });
        var big = new Sampler(new SamplingOptions { Temperature = 0.7f, TopK = 2999, TopP = 0.9f, MinP = 0.01f, Seed = 3 });
        for (int i = 0; i < 50; i++)
        {
            int a = all.Sample(logits.ToArray());
            Assert.Equal(a, top.Sample(logits.ToArray()));
            Assert.Equal(a, big.Sample(logits.ToArray())); // the dropped 3000th token is far below top-p's cut
        }
    }

    [Fact]
    public void Repetition_penalty_divides_positive_and_multiplies_negative_logits_of_seen_tokens()
    {
        var s = new Sampler(SamplingOptions.Greedy with { RepeatPenalty = 2f });
        s.Accept(0);
        s.Accept(1);
        var logits = new float[] { 4f, -1f, 3f };
        Assert.Equal(2, s.Sample(logits));
        Assert.Equal([2f, -2f, 3f], logits);
    }

    [Fact]
    public void Same_seed_gives_the_same_tokens_and_another_seed_does_not()
    {
        var logits = Enumerable.Range(0, 50).Select(i => (float)Math.Sin(i)).ToArray();
        int[] Run(ulong seed)
        {
            var s = new Sampler(new SamplingOptions { Temperature = 1f, TopK = 0, TopP = 1f, MinP = 0f, Seed = seed });
            return Enumerable.Range(0, 40).Select(_ => s.Sample(logits.ToArray())).ToArray();
        }
        Assert.Equal(Run(3), Run(3));
        Assert.NotEqual(Run(3), Run(4));
    }

    [Fact]
    public void Frequencies_follow_the_softmax_probabilities()
    {
        var logits = new float[] { 0f, (float)Math.Log(2), (float)Math.Log(5) }; // probabilities 1/8, 2/8, 5/8
        var s = new Sampler(new SamplingOptions { Temperature = 1f, TopK = 0, TopP = 1f, MinP = 0f, Seed = 9 });
        var counts = new int[3];
        for (int i = 0; i < 8000; i++) counts[s.Sample(logits.ToArray())]++;
        Assert.InRange(counts[0], 850, 1150);
        Assert.InRange(counts[1], 1800, 2200);
        Assert.InRange(counts[2], 4750, 5250);
    }

    [Fact]
    public void Min_p_and_top_p_remove_unlikely_tokens()
    {
        var logits = new float[] { 5f, 4.9f, -5f, -6f };
        for (ulong seed = 0; seed < 50; seed++)
        {
            var minP = new Sampler(new SamplingOptions { Temperature = 1f, TopK = 0, TopP = 1f, MinP = 0.1f, Seed = seed });
            Assert.InRange(minP.Sample(logits.ToArray()), 0, 1);
            var topP = new Sampler(new SamplingOptions { Temperature = 1f, TopK = 0, TopP = 0.5f, MinP = 0f, Seed = seed });
            Assert.Equal(0, topP.Sample(logits.ToArray()));
        }
    }

    [Theory]
    [InlineData(1e-40f)]  // 1 / T overflows to infinity
    [InlineData(1e-38f)]  // logit / T overflows to infinity
    public void A_tiny_temperature_picks_the_best_token_not_the_worst(float temperature)
    {
        var logits = new float[] { 10f, 50f, 30f, 20f };
        for (ulong seed = 0; seed < 10; seed++)
        {
            var s = new Sampler(new SamplingOptions { Temperature = temperature, TopK = 0, TopP = 1f, MinP = 0f, Seed = seed });
            Assert.Equal(1, s.Sample(logits.ToArray()));
        }
    }

    [Theory]
    [InlineData(-1f, 40, 0.9f, 0f, 1f)]
    [InlineData(1f, -1, 0.9f, 0f, 1f)]
    [InlineData(1f, 40, 0f, 0f, 1f)]
    [InlineData(1f, 40, 1.5f, 0f, 1f)]
    [InlineData(1f, 40, 0.9f, -0.1f, 1f)]
    [InlineData(1f, 40, 0.9f, 0f, 0f)]
    [InlineData(float.NaN, 40, 0.9f, 0f, 1f)]
    public void Out_of_range_options_are_refused(float temperature, int topK, float topP, float minP, float penalty)
    {
        var options = new SamplingOptions { Temperature = temperature, TopK = topK, TopP = topP, MinP = minP, RepeatPenalty = penalty };
        Assert.NotNull(options.Validate());
        Assert.Throws<ArgumentException>(() => new Sampler(options));
    }
}
