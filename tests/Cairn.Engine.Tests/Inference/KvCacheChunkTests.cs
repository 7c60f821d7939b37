using Cairn.Engine.Inference;
using Cairn.Engine.Models;

namespace Cairn.Engine.Tests.Inference;

/// <summary>The KV cache grows in <see cref="Session.ChunkPositions"/>-position chunks; runs that cross a chunk boundary change no bit.</summary>
public sealed class KvCacheChunkTests
{
    [Fact]
    public void Prefill_across_kv_chunk_boundaries_is_bit_identical_however_it_is_chunked()
    {
        string path = Path.Combine(Path.GetTempPath(), $"cairn-long-{Guid.NewGuid():N}.gguf");
        SyntheticModel.Write(path, new SyntheticModelSpec { Dim = 64, HiddenDim = 128, Heads = 4, KvHeads = 2, Layers = 2, ContextLength = 3 * Session.ChunkPositions, Seed = 3 });
        try
        {
            using var model = Model.Load(path);
            int n = 2 * Session.ChunkPositions + 17;
            int[] prompt = Enumerable.Range(0, n).Select(i => 3 + i * 37 % (model.Config.VocabSize - 3)).ToArray();
            (int[] Logits, byte[] Trace) Run(int threads, int chunk)
            {
                var t = new Transformer(model, threads);
                var session = t.CreateSession(trace: true);
                var logits = new float[model.Config.VocabSize];
                for (int i = 0; i < n; i += chunk) t.Forward(session, prompt.AsSpan(i, Math.Min(chunk, n - i)), logits);
                Assert.Equal(n, session.Length);
                return (TransformerDeterminismTests.Bits(logits), session.Trace!.TraceRoot());
            }
            var whole = Run(1, n);
            foreach (var (threads, chunk) in new[] { (3, 7), (2, Session.ChunkPositions), (4, Session.ChunkPositions - 1), (2, 1) })
            {
                var other = Run(threads, chunk);
                Assert.Equal(whole.Logits, other.Logits);
                Assert.Equal(whole.Trace, other.Trace);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }
}
