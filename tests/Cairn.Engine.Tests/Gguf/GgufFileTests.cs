using Cairn.Engine.Gguf;
using Cairn.Engine.Tensors;
using Cairn.Engine.Tests.TestSupport;

namespace Cairn.Engine.Tests.Gguf;

public sealed class GgufFileTests
{
    [Fact]
    public void Reads_the_reference_model_written_by_llama_cpp()
    {
        using var f = GgufFile.Open(ReferenceData.Model("tiny-Q4_K_M.gguf"));
        Assert.Equal(3u, f.Version);
        Assert.Equal("llama", f.GetString("general.architecture"));
        Assert.Equal(256, f.GetInteger("llama.embedding_length"));
        Assert.Equal(512, f.TryGetArray<string>("tokenizer.ggml.tokens")!.Length);
        var q = f.GetTensor("blk.0.attn_q.weight");
        Assert.Equal([256L, 256L], q.Dimensions);
        Assert.Contains(f.Tensors, t => t.Type == GgmlType.Q4_K);
        Assert.Contains(f.Tensors, t => t.Type == GgmlType.Q6_K);
        Assert.Equal(0, f.DataOffset % f.Alignment);
    }

    [Fact]
    public void Writer_output_reads_back_identically()
    {
        string path = Path.Combine(Path.GetTempPath(), $"cairn-{Guid.NewGuid():N}.gguf");
        try
        {
            var data = new byte[34 * 2 * 3];
            new Random(1).NextBytes(data);
            var nested = new GgufValue(GgufValueType.Array, new[]
            {
                new GgufValue(GgufValueType.Array, new[] { 1, 2 }, GgufValueType.Int32),
                new GgufValue(GgufValueType.Array, new[] { 3 }, GgufValueType.Int32),
            }, GgufValueType.Array);
            new GgufWriter { Alignment = 64 }
                .Set("general.architecture", "llama")
                .Set("a.u32", 7u).Set("a.i32", -3).Set("a.f32", 1.5f).Set("a.bool", true).Set("a.u64", ulong.MaxValue)
                .Set("a.strings", ["x", "ÿ", ""]).Set("a.floats", [1f, -2f]).Set("a.nested", nested)
                .AddTensor("w", GgmlType.Q8_0, [64, 3], data)
                .AddTensor("v", GgmlType.F32, [5], new byte[20])
                .Write(path);

            using var f = GgufFile.Open(path);
            Assert.Equal(64u, f.Alignment);
            Assert.Equal(7L, f.GetInteger("a.u32"));
            Assert.Equal(-3L, f.GetInteger("a.i32"));
            Assert.Equal(1.5, f.TryGetNumber("a.f32"));
            Assert.True(f.TryGetBool("a.bool"));
            Assert.Equal(ulong.MaxValue, f.Metadata["a.u64"].Value);
            Assert.Equal(["x", "ÿ", ""], f.TryGetArray<string>("a.strings")!);
            Assert.Equal([1f, -2f], f.TryGetArray<float>("a.floats")!);
            var inner = (GgufValue[])f.Metadata["a.nested"].Value;
            Assert.Equal([1, 2], (int[])inner[0].Value);
            Assert.Equal([3], (int[])inner[1].Value);
            var w = f.GetTensor("w");
            Assert.Equal(GgmlType.Q8_0, w.Type);
            Assert.Equal(3, w.Rows);
            Assert.Equal(data, f.TensorBytes(w).ToArray());
            Assert.Equal(0, f.GetTensor("v").Offset % 64);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
