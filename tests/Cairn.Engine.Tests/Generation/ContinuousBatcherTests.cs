using Cairn.Engine.Generation;
using Cairn.Engine.Inference;
using Cairn.Engine.Models;
using Cairn.Engine.Sampling;
using Cairn.Engine.Tensors;
using Cairn.Engine.Tests.TestSupport;

namespace Cairn.Engine.Tests.Generation;

public sealed class ContinuousBatcherTests
{
    private static GenerationOptions Options(ulong seed, int maxTokens) => new()
    {
        MaxTokens = maxTokens,
        Commitment = true,
        StopAtEndOfGeneration = false,
        Sampling = new SamplingOptions { Temperature = 0.8f, Seed = seed, TopK = 0, MinP = 0 },
    };

    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.F16)]
    public async Task Concurrent_sequences_get_exactly_what_they_would_get_alone(GgmlType type)
    {
        using var model = Model.Load(SyntheticModels.Path(type));
        var t = new Transformer(model, 2);
        int[][] prompts = [[1, 50, 60, 70, 80, 90, 100, 110, 120, 130], [1, 7], [1, 200, 201, 202, 203], [1, 33, 34]];
        var alone = prompts.Select((p, i) => new Generator(t).Generate(p, Options((ulong)i, 5 + i))).ToArray();

        using var batcher = new ContinuousBatcher(t, maxSequences: 3, prefillChunk: 3);
        var tasks = new List<Task<GenerationResult>>();
        for (int i = 0; i < prompts.Length; i++)
        {
            tasks.Add(batcher.Submit(prompts[i], Options((ulong)i, 5 + i)));
            if (i == 1) await Task.Delay(5); // later arrivals join a running batch
        }
        var together = await Task.WhenAll(tasks);
        for (int i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(alone[i].Tokens, together[i].Tokens);
            Assert.Equal(alone[i].LogitsHash, together[i].LogitsHash);
            Assert.Equal(alone[i].OutputCommitment, together[i].OutputCommitment);
            Assert.Equal("length", together[i].StopReason);
        }
    }

    [Fact]
    public async Task A_stop_callback_ends_the_sequence_at_that_token()
    {
        using var model = Model.Load(SyntheticModels.Path(GgmlType.Q4_0));
        var t = new Transformer(model, 1);
        using var batcher = new ContinuousBatcher(t);
        int seen = 0;
        var r = await batcher.Submit([1, 2, 3], Options(1, 50), _ => ++seen == 3);
        Assert.Equal(3, r.Tokens.Length);
        Assert.Equal("stop", r.StopReason);
        var full = new Generator(t).Generate([1, 2, 3], Options(1, 50));
        Assert.Equal(full.Tokens[..3], r.Tokens);
    }

    [Fact]
    public async Task Cancelled_and_invalid_requests_fail_alone()
    {
        using var model = Model.Load(SyntheticModels.Path(GgmlType.Q4_0));
        using var batcher = new ContinuousBatcher(new Transformer(model, 1));
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => batcher.Submit([1, 2], Options(1, 10), null, cts.Token));
        Assert.Throws<ArgumentException>(() => { _ = batcher.Submit([], Options(1, 10)); });
        Assert.Throws<ArgumentException>(() => { _ = batcher.Submit(new int[model.Config.ContextLength + 1], Options(1, 10)); });
        var ok = await batcher.Submit([1, 2], Options(1, 4));
        Assert.Equal(4, ok.Tokens.Length);
    }
}
