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

    public static TheoryData<string> ReferenceFiles()
    {
        var data = new TheoryData<string>();
        foreach (string name in GgufMutator.ReferenceFileNames()) data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(ReferenceFiles))]
    public void Every_reference_file_opens(string relative)
    {
        // The vocab-only files have no tensors and end right after the metadata, without padding to the alignment.
        using var f = GgufFile.Open(GgufMutator.ReferencePath(relative));
        Assert.NotEmpty(f.Metadata);
        Assert.All(f.Tensors, t => Assert.Equal(0, t.Offset % f.Alignment));
    }

    [Fact]
    public void TensorData_after_Dispose_throws_ObjectDisposedException()
    {
        var f = GgufFile.Open(ReferenceData.Model("tiny-Q8_0.gguf"));
        var t = f.Tensors[0];
        f.Dispose();
        f.Dispose(); // twice is harmless
        Assert.Throws<ObjectDisposedException>(() => { unsafe { _ = f.TensorData(t); } });
        Assert.Throws<ObjectDisposedException>(() => f.TensorBytes(t).Length);
    }

    [Fact]
    public void TensorData_refuses_a_tensor_that_is_not_inside_the_file()
    {
        using var f = GgufFile.Open(ReferenceData.Model("tiny-Q8_0.gguf"));
        var t = f.Tensors[^1];
        long dataBytes = f.Length - f.DataOffset;
        Assert.Throws<ArgumentException>(() => f.TensorBytes(t with { Offset = dataBytes - t.ByteSize + 32 }).Length);
        Assert.Throws<ArgumentException>(() => f.TensorBytes(t with { Offset = -32 }).Length);
        Assert.Throws<ArgumentException>(() => f.TensorBytes(t with { ByteSize = f.Length }).Length);
        Assert.Equal(t.ByteSize, f.TensorBytes(t).Length);
    }
}
