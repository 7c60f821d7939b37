using Cairn.Engine.Gguf;
using Cairn.Engine.Models;
using Cairn.Engine.Tensors;

namespace Cairn.Planner.Tests;

public sealed class ModelProfileTests
{
    [Fact]
    public void The_tiny_reference_model_profile_matches_its_tensor_table()
    {
        var p = ModelProfile.FromGguf(ReferenceData.Model("tiny-Q8_0.gguf"));
        // dim 256, hidden 768, 8 heads, 4 KV heads of 32, 4 layers, vocab 512, Q8_0 (34 bytes per 32 weights).
        Assert.Equal(4, p.LayerCount);
        long q8 = 256L * 256 * 34 / 32, kv = 256L * 128 * 34 / 32, ffn = 256L * 768 * 34 / 32, norms = 2 * 256 * 4;
        Assert.All(p.Layers, l => Assert.Equal(2 * q8 + 2 * kv + 3 * ffn + norms, l.WeightBytes));
        Assert.All(p.Layers, l => Assert.Equal(2.0 * (2 * 256 * 256 + 2 * 256 * 128 + 3 * 256 * 768), l.FlopsPerToken));
        Assert.All(p.Layers, l => Assert.Equal(2 * 4 * 32 * 4, l.KvBytesPerPosition));
        Assert.All(p.Layers, l => Assert.Equal(4.0 * 8 * 32, l.AttentionFlopsPerPosition));
        Assert.Equal(512L * 256 * 34 / 32, p.FirstStageBytes);
        Assert.Equal(512L * 256 * 34 / 32 + 256 * 4, p.LastStageBytes);
        Assert.Equal(0, p.SharedFirstLastBytes);
        Assert.Equal(1024, p.ActivationBytesPerToken);
        Assert.Equal(2.0 * 512 * 256, p.LastStageFlopsPerToken);
        Assert.Equal(128, p.ContextLength);
        using var f = GgufFile.Open(ReferenceData.Model("tiny-Q8_0.gguf"));
        Assert.Equal(f.Tensors.Sum(t => t.ByteSize), p.TotalWeightBytes);
    }

    [Theory]
    [InlineData("tiny-F32.gguf")]
    [InlineData("tiny-F16.gguf")]
    [InlineData("tiny-Q4_K_M.gguf")]
    [InlineData("aidreams260K.gguf")]
    public void Every_byte_of_a_real_model_is_attributed_exactly_once(string name)
    {
        var p = ModelProfile.FromGguf(ReferenceData.Model(name));
        using var f = GgufFile.Open(ReferenceData.Model(name));
        Assert.Equal(f.Tensors.Sum(t => t.ByteSize), p.TotalWeightBytes);
        for (int l = 0; l < p.LayerCount; l++)
            Assert.Equal(f.Tensors.Where(t => t.Name.StartsWith($"blk.{l}.", StringComparison.Ordinal)).Sum(t => t.ByteSize), p.Layers[l].WeightBytes);
    }

    [Theory]
    [InlineData(GgmlType.F32, false)]
    [InlineData(GgmlType.Q8_0, false)]
    [InlineData(GgmlType.Q4_0, true)]
    [InlineData(GgmlType.Q6_K, true)]
    public void A_synthetic_model_profile_follows_its_shape(GgmlType type, bool tied)
    {
        string path = Path.Combine(Path.GetTempPath(), $"cairn-planner-{Guid.NewGuid():N}.gguf");
        try
        {
            var spec = new SyntheticModelSpec { Dim = 256, HiddenDim = 512, Layers = 3, Heads = 8, KvHeads = 2, ContextLength = 96, WeightType = type, TiedOutput = tied };
            SyntheticModel.Write(path, spec);
            var p = ModelProfile.FromGguf(path);
            int headDim = 256 / 8, kvDim = 2 * headDim;
            long Bytes(long elements) => elements / GgmlTypeInfo.BlockSize(type) * GgmlTypeInfo.BlockBytes(type);
            long layer = Bytes(2L * 256 * 256) + Bytes(2L * kvDim * 256) + Bytes(3L * 256 * 512) + 2 * 256 * 4;
            Assert.All(p.Layers, l => Assert.Equal(layer, l.WeightBytes));
            Assert.All(p.Layers, l => Assert.Equal(2.0 * (2 * 256 * 256 + 2 * kvDim * 256 + 3 * 256 * 512), l.FlopsPerToken));
            Assert.All(p.Layers, l => Assert.Equal(2L * 2 * headDim * 4 * 96, l.KvBytes(96)));
            long embedding = Bytes((long)SyntheticModel.MinimumVocabSize * 256);
            Assert.Equal(embedding, p.FirstStageBytes);
            Assert.Equal(embedding + 256 * 4, p.LastStageBytes); // the tied head is the embedding again
            Assert.Equal(tied ? embedding : 0, p.SharedFirstLastBytes);
            using var f = GgufFile.Open(path);
            Assert.Equal(f.Tensors.Sum(t => t.ByteSize), p.TotalWeightBytes);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_single_device_holds_a_tied_embedding_once()
    {
        var p = new ModelProfile
        {
            Name = "t",
            Layers = [new LayerProfile(1000, 2000, 10, 8)],
            Dim = 4,
            ContextLength = 10,
            FirstStageBytes = 500,
            LastStageBytes = 520,
            SharedFirstLastBytes = 500,
        };
        var cost = new CostModel(p, [new DeviceProfile("a", 10_000, 1e9, 1e9, 0, 1e9)], 10);
        Assert.Equal(1000 + 80 + 520, cost.MemoryBytes(0, 1));
    }
}
