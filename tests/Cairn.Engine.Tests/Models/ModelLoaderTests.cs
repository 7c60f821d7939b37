using Cairn.Engine.Gguf;
using Cairn.Engine.Models;
using Cairn.Engine.Tensors;
using Cairn.Engine.Tests.TestSupport;

namespace Cairn.Engine.Tests.Models;

public sealed class ModelLoaderTests
{
    private static string Rewrite(Action<GgufFile, GgufWriter> metadata, Func<GgufTensorInfo, GgufFile, (string Name, GgmlType Type, long[] Dims, byte[] Data)?> tensor,
        (string Name, GgmlType Type, long[] Dims, byte[] Data)? extra = null)
    {
        string path = Path.Combine(Path.GetTempPath(), $"cairn-edited-{Guid.NewGuid():N}.gguf");
        using var source = GgufFile.Open(SyntheticModels.Path(GgmlType.Q8_0));
        var w = new GgufWriter();
        foreach (string key in source.MetadataKeys) w.Set(key, source.Metadata[key]);
        metadata(source, w);
        foreach (var t in source.Tensors)
        {
            var replaced = tensor(t, source);
            if (replaced is { } r) w.AddTensor(r.Name, r.Type, r.Dims, r.Data);
        }
        if (extra is { } x) w.AddTensor(x.Name, x.Type, x.Dims, x.Data);
        w.Write(path);
        return path;
    }

    private static (string, GgmlType, long[], byte[])? Keep(GgufTensorInfo t, GgufFile f) => (t.Name, t.Type, t.Dimensions, f.TensorBytes(t).ToArray());

    private static GgufFormatException Refused(string path)
    {
        try
        {
            return Assert.Throws<GgufFormatException>(() => Model.Load(path).Dispose());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Unknown_architecture_is_refused_naming_it()
    {
        var e = Refused(Rewrite((_, w) => w.Set("general.architecture", "mamba"), Keep));
        Assert.Contains("architecture 'mamba' is not supported", e.Message);
        Assert.Contains(".gguf", e.Message);
    }

    [Fact]
    public void Missing_tensor_is_refused_naming_it()
    {
        var e = Refused(Rewrite((_, _) => { }, (t, f) => t.Name == "blk.1.ffn_up.weight" ? null : Keep(t, f)));
        Assert.Contains("'blk.1.ffn_up.weight' is missing", e.Message);
    }

    [Fact]
    public void Missing_hyper_parameter_is_refused_naming_the_key()
    {
        string path = Path.Combine(Path.GetTempPath(), $"cairn-edited-{Guid.NewGuid():N}.gguf");
        using (var source = GgufFile.Open(SyntheticModels.Path(GgmlType.F32)))
        {
            var w = new GgufWriter();
            foreach (string key in source.MetadataKeys.Where(k => k != "llama.block_count")) w.Set(key, source.Metadata[key]);
            foreach (var t in source.Tensors) w.AddTensor(t.Name, t.Type, t.Dimensions, source.TensorBytes(t).ToArray());
            w.Write(path);
        }
        Assert.Contains("'llama.block_count' is missing", Refused(path).Message);
    }

    [Fact]
    public void Wrong_tensor_shape_is_refused_with_the_expected_shape()
    {
        var e = Refused(Rewrite((_, _) => { }, (t, f) => t.Name == "blk.0.attn_k.weight"
            ? (t.Name, t.Type, [t.Dimensions[0], t.Dimensions[1] / 2], f.TensorBytes(t)[..(int)(t.ByteSize / 2)].ToArray())
            : Keep(t, f)));
        Assert.Contains("'blk.0.attn_k.weight' has shape [256, 64], expected [256, 128]", e.Message);
    }

    [Fact]
    public void Unsupported_weight_type_is_refused_naming_the_type()
    {
        var e = Refused(Rewrite((_, _) => { }, (t, f) => t.Name == "blk.0.attn_q.weight"
            ? (t.Name, GgmlType.Q5_K, [256, 256], new byte[256 * 176])
            : Keep(t, f)));
        Assert.Contains("weight type Q5_K", e.Message);
        Assert.Contains("'blk.0.attn_q.weight'", e.Message);
    }

    [Theory]
    [InlineData("llama.attention.head_count", 7u, "head_count_kv 4 must divide head count 7")]
    [InlineData("llama.attention.head_count_kv", 3u, "head_count_kv 3 must divide head count 8")]
    [InlineData("llama.context_length", 0u, "'llama.context_length' is 0")]
    [InlineData("llama.embedding_length", 100000u, "'llama.embedding_length' is 100000")]
    public void Absurd_hyper_parameters_are_refused(string key, uint value, string message)
    {
        var e = Refused(Rewrite((_, w) => w.Set(key, value), Keep));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Llama2c_checkpoint_of_the_wrong_size_is_refused()
    {
        string path = Path.Combine(Path.GetTempPath(), $"cairn-{Guid.NewGuid():N}.bin");
        try
        {
            byte[] original = File.ReadAllBytes(ReferenceData.Model("aidreams260K.bin"));
            File.WriteAllBytes(path, original[..^4]);
            var e = Assert.Throws<GgufFormatException>(() => Model.Load(path, ReferenceData.Model("tok512.bin")));
            Assert.Contains("a llama2.c checkpoint of this header takes", e.Message);
            var bad = original.ToArray();
            BitConverter.TryWriteBytes(bad.AsSpan(8), 1_000_000); // n_layers
            File.WriteAllBytes(path, bad);
            Assert.Throws<GgufFormatException>(() => Model.Load(path, ReferenceData.Model("tok512.bin")));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(null, "llama.rope.scaling.factor", 4.0, 0.25f)]      // llama.cpp defaults the type to linear
    [InlineData("linear", "llama.rope.scaling.factor", 2.0, 0.5f)]
    [InlineData(null, "llama.rope.scale_linear", 8.0, 0.125f)]       // the legacy key llama.cpp still reads
    [InlineData(null, "llama.rope.scaling.factor", 0.0, 1f)]
    public void Rope_scaling_factor_is_read_as_llama_cpp_reads_it(string? type, string key, double factor, float expected)
    {
        string path = Rewrite((_, w) =>
        {
            if (type != null) w.Set("llama.rope.scaling.type", type);
            w.Set(key, (float)factor);
        }, Keep);
        try
        {
            using var m = Model.Load(path);
            Assert.Equal(expected, m.Config.RopeFreqScale);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Tokenizer_smaller_than_the_embedding_table_is_refused()
    {
        // llama.cpp requires token_embd to have exactly one row per token; a smaller tokenizer would let the sampler
        // pick ids that cannot be decoded.
        var e = Refused(Rewrite((f, w) =>
        {
            foreach (string key in new[] { "tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type" })
            {
                var v = f.Metadata[key];
                var a = (Array)v.Value;
                var shorter = Array.CreateInstance(a.GetType().GetElementType()!, a.Length - 10);
                Array.Copy(a, shorter, shorter.Length);
                w.Set(key, new GgufValue(GgufValueType.Array, shorter, v.ElementType));
            }
        }, Keep));
        Assert.Contains("tokenizer has", e.Message);
    }

    [Fact]
    public void Reference_models_load_with_their_metadata()
    {
        using var m = Model.Load(ReferenceData.Model("tiny-Q4_K_M.gguf"));
        Assert.Equal(256, m.Config.Dim);
        Assert.Equal(768, m.Config.HiddenDim);
        Assert.Equal(4, m.Config.Layers);
        Assert.Equal(8, m.Config.Heads);
        Assert.Equal(4, m.Config.KvHeads);
        Assert.Equal(512, m.Config.VocabSize);
        Assert.Contains(m.Layers, l => l.Down.Type == GgmlType.Q6_K);
        Assert.Contains(m.Layers, l => l.Wq.Type == GgmlType.Q4_K);
    }

    [Fact]
    public void A_tensor_the_architecture_does_not_use_is_refused_naming_it()
    {
        var e = Refused(Rewrite((_, _) => { }, (t, f) => t.Name == "blk.0.attn_output.weight"
            ? (t.Name, t.Type, t.Dimensions, f.TensorBytes(t).ToArray())
            : Keep(t, f), extra: ("blk.0.attn_output.bias", GgmlType.F32, [256], new byte[1024])));
        Assert.Contains("tensor 'blk.0.attn_output.bias' is not part of the llama architecture", e.Message);
    }

    [Fact]
    public void Absurd_heads_times_head_dimension_is_refused_before_any_cache_is_made()
    {
        var e = Refused(Rewrite((_, w) =>
        {
            w.Set("llama.attention.head_count", 1024u);
            w.Set("llama.attention.head_count_kv", 1024u);
            w.Set("llama.attention.key_length", 4096u);
            w.Set("llama.rope.dimension_count", 64u);
        }, Keep));
        Assert.Contains("at most 65536", e.Message);
    }
}
