using Cairn.Engine.Inference;

namespace Cairn.Engine.Tests.Inference;

public class ParallelRunnerTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    public void Every_item_is_run_exactly_once_whatever_the_count_and_chunk(int threads)
    {
        var runner = new ParallelRunner(threads);
        foreach (int count in new[] { 0, 1, 2, 5, 16, 17, 100, 1000 })
        {
            foreach (int minChunk in new[] { 1, 4, 16, 64 })
            {
                var hits = new int[count];
                runner.For(count, minChunk, (start, end) =>
                {
                    Assert.True(0 <= start && start < end && end <= count);
                    for (int i = start; i < end; i++) Interlocked.Increment(ref hits[i]);
                });
                Assert.All(hits, h => Assert.Equal(1, h));
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    public void Guided_runs_every_item_exactly_once_in_chunks_that_start_on_a_grain(int threads)
    {
        var runner = new ParallelRunner(threads);
        foreach (int count in new[] { 0, 1, 2, 5, 16, 17, 100, 1000, 32000 })
        {
            foreach (int grain in new[] { 1, 4, 16, 64 })
            {
                for (int repeat = 0; repeat < 20; repeat++)
                {
                    var hits = new int[count];
                    runner.ForGuided(count, grain, (start, end) =>
                    {
                        Assert.True(0 <= start && start < end && end <= count);
                        Assert.Equal(0, start % grain);
                        Assert.True(end == count || end % grain == 0);
                        for (int i = start; i < end; i++) Interlocked.Increment(ref hits[i]);
                    });
                    Assert.All(hits, h => Assert.Equal(1, h));
                }
            }
        }
        long total = 0;
        for (int call = 0; call < 2000; call++) runner.ForGuided(64, 1, (s, e) => Interlocked.Add(ref total, e - s));
        Assert.Equal(2000L * 64, total);
    }

    [Fact]
    public void Many_calls_in_a_row_and_nested_and_concurrent_calls_complete()
    {
        var runner = new ParallelRunner(3);
        long total = 0;
        for (int call = 0; call < 2000; call++) runner.For(64, 1, (s, e) => Interlocked.Add(ref total, e - s));
        Assert.Equal(2000L * 64, total);

        long nested = 0;
        runner.For(8, 1, (s, e) =>
        {
            for (int i = s; i < e; i++) runner.For(10, 1, (a, b) => Interlocked.Add(ref nested, b - a));
        });
        Assert.Equal(80, nested);

        long concurrent = 0;
        Parallel.For(0, 4, _ =>
        {
            for (int call = 0; call < 200; call++) runner.For(32, 1, (s, e) => Interlocked.Add(ref concurrent, e - s));
        });
        Assert.Equal(4L * 200 * 32, concurrent);
    }

    [Fact]
    public void An_exception_in_a_body_reaches_the_caller_and_the_runner_stays_usable()
    {
        var runner = new ParallelRunner(2);
        var e = Assert.Throws<AggregateException>(() => runner.For(100, 1, (s, _) =>
        {
            if (s >= 50) throw new InvalidOperationException("boom");
        }));
        Assert.IsType<InvalidOperationException>(e.InnerException);
        int sum = 0;
        runner.For(100, 1, (s, e2) => Interlocked.Add(ref sum, e2 - s));
        Assert.Equal(100, sum);
    }
}
