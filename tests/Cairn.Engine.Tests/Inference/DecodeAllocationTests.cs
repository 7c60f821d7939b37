using Cairn.Engine.Inference;
using Cairn.Engine.Models;
using Cairn.Engine.Tensors;

namespace Cairn.Engine.Tests.Inference;

/// <summary>
/// The token loop allocates nothing once warm: the forward pass reuses the transformer's kept buffers and its
/// parallel bodies are delegates made once. Counted in bytes on the calling thread, never timed.
/// </summary>
public sealed class DecodeAllocationTests
{
    private const int Tokens = 32;
    private const int Windows = 3;

    [Theory]
    [InlineData(GgmlType.F32, 1)]
    [InlineData(GgmlType.F16, 1)]
    [InlineData(GgmlType.Q8_0, 1)]
    [InlineData(GgmlType.Q4_0, 2)]
    [InlineData(GgmlType.Q4_K, 3)]
    public void Decode_loop_allocates_nothing_per_token_once_warm(GgmlType type, int threads)
    {
        string path = Path.Combine(Path.GetTempPath(), $"cairn-alloc-{Guid.NewGuid():N}.gguf");
        SyntheticModel.Write(path, new SyntheticModelSpec { WeightType = type, Seed = 5 });
        try
        {
            using var model = Model.Load(path);
            var t = new Transformer(model, threads);
            var session = t.CreateSession();
            var logits = new float[model.Config.VocabSize];
            int[] tokens = Enumerable.Range(0, (Windows + 1) * Tokens + 8).Select(i => 3 + i * 29 % (model.Config.VocabSize - 3)).ToArray();
            t.Forward(session, tokens.AsSpan(0, 4), logits); // prompt, first KV chunk, kept buffers
            for (int i = 4; i < 8 + Tokens; i++) t.Forward(session, tokens.AsSpan(i, 1), logits); // warm-up (JIT tiers, pools)

            // A loop that allocates per token does so in every window. Under the rest of the suite's load a few KB were
            // allocated on this thread in one window now and then (131 and 202 bytes per token over one window, once
            // each in full-suite runs, never alone; the source is not pinned down — most likely the runtime's delayed
            // tier-up), so a clean window among the next few is what is required.
            var perToken = new List<long>();
            for (int w = 0; w < Windows && !perToken.Contains(0); w++)
            {
                int first = 8 + (w + 1) * Tokens;
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = first; i < first + Tokens; i++) t.Forward(session, tokens.AsSpan(i, 1), logits);
                perToken.Add((GC.GetAllocatedBytesForCurrentThread() - before) / Tokens);
            }

            Assert.True(perToken.Contains(0), $"{type}, {threads} threads: bytes allocated per decoded token in {Windows} windows of {Tokens}: {string.Join(", ", perToken)}");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Batched_decode_into_a_span_allocates_nothing_per_step_once_warm()
    {
        string path = Path.Combine(Path.GetTempPath(), $"cairn-alloc-{Guid.NewGuid():N}.gguf");
        SyntheticModel.Write(path, new SyntheticModelSpec { WeightType = GgmlType.Q8_0, Layers = 3, Seed = 6 });
        try
        {
            using var model = Model.Load(path);
            var t = new Transformer(model, 2);
            var a = t.CreateSession();
            var b = t.CreateSession();
            int[] ta = [5], tb = [7];
            var work = new (Session, int[])[] { (a, ta), (b, tb) };
            int[] splits = [1, 2];
            var logits = new float[2 * model.Config.VocabSize];
            for (int i = 0; i < 16; i++) t.ForwardBatch(work, splits, logits);

            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < Tokens; i++) t.ForwardBatch(work, splits, logits);
            long perStep = (GC.GetAllocatedBytesForCurrentThread() - before) / Tokens;

            Assert.True(perStep == 0, $"{perStep} bytes allocated per batched step");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
