using Cairn.Engine.Adapters;
using Cairn.Engine.Gguf;
using Cairn.Engine.Models;
using Cairn.Engine.Tensors;
using Cairn.Engine.Tests.TestSupport;

namespace Cairn.Engine.Tests.Adapters;

/// <summary>llama.cpp's LoRA GGUF as read by <see cref="LoraAdapter"/>: what it accepts, and a clear error for the rest.</summary>
public sealed class LoraAdapterFormatTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-lora-format-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] F32(int n) => new byte[n * 4];

    private string Write(Action<GgufWriter> edit, string name = "adapter")
    {
        var w = new GgufWriter()
            .Set("general.architecture", "llama")
            .Set("general.type", "adapter")
            .Set("adapter.type", "lora")
            .Set("adapter.lora.alpha", 16f)
            .AddTensor("blk.0.attn_q.weight.lora_a", GgmlType.F32, [256, 4], F32(256 * 4))
            .AddTensor("blk.0.attn_q.weight.lora_b", GgmlType.F32, [4, 256], F32(4 * 256));
        edit(w);
        string path = Path.Combine(_dir, name + ".gguf");
        w.Write(path);
        return path;
    }

    [Fact]
    public void A_well_formed_adapter_loads_with_its_name_hash_rank_and_scale()
    {
        string path = Write(_ => { }, "my-style");
        var a = LoraAdapter.Load(path);
        Assert.Equal("my-style", a.Name);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path))), a.HashHex);
        var p = Assert.Single(a.Pairs);
        Assert.Equal((0, LoraTarget.AttnQ, 4, 256, 256, 4f), (p.Layer, p.Target, p.Rank, p.Rows, p.Cols, p.Scale));
        using var model = Model.Load(SyntheticModels.Path(GgmlType.F32));
        Assert.Null(a.Misfit(model.Config));
    }

    [Theory]
    [InlineData("general.type", "model", "general.type is \"model\"")]
    [InlineData("adapter.type", "prompt_tuning", "only \"lora\" is supported")]
    public void A_file_that_is_not_a_lora_adapter_is_refused(string key, string value, string message)
    {
        var e = Assert.Throws<GgufFormatException>(() => LoraAdapter.Load(Write(w => w.Set(key, value))));
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(-1f)]
    public void Alpha_must_be_finite_and_not_negative(float alpha)
    {
        var e = Assert.Throws<GgufFormatException>(() => LoraAdapter.Load(Write(w => w.Set("adapter.lora.alpha", alpha))));
        Assert.Contains("adapter.lora.alpha", e.Message);
    }

    [Fact]
    public void Alpha_that_is_not_a_number_is_refused() =>
        Assert.Contains("adapter.lora.alpha", Assert.Throws<GgufFormatException>(() =>
            LoraAdapter.Load(Write(w => w.Set("adapter.lora.alpha", new GgufValue(GgufValueType.String, "x"))))).Message);

    [Fact]
    public void Unpaired_mismatched_and_unknown_tensors_are_refused()
    {
        Assert.Contains("lora_a but no lora_b", Assert.Throws<GgufFormatException>(() => LoraAdapter.Load(Write(w =>
            w.AddTensor("blk.1.ffn_up.weight.lora_a", GgmlType.F32, [256, 4], F32(1024))))).Message);
        Assert.Contains("has rank 4 but lora_b", Assert.Throws<GgufFormatException>(() => LoraAdapter.Load(Write(w => w
            .AddTensor("blk.1.ffn_up.weight.lora_a", GgmlType.F32, [256, 4], F32(1024))
            .AddTensor("blk.1.ffn_up.weight.lora_b", GgmlType.F32, [8, 512], F32(8 * 512))))).Message);
        Assert.Contains("not a matrix Cairn can adapt", Assert.Throws<GgufFormatException>(() => LoraAdapter.Load(Write(w => w
            .AddTensor("token_embd.weight.lora_a", GgmlType.F32, [256, 4], F32(1024))
            .AddTensor("token_embd.weight.lora_b", GgmlType.F32, [4, 448], F32(4 * 448))))).Message);
        Assert.Contains("neither", Assert.Throws<GgufFormatException>(() => LoraAdapter.Load(Write(w =>
            w.AddTensor("blk.0.attn_q.weight", GgmlType.F32, [256, 256], F32(256 * 256))))).Message);
    }

    [Fact]
    public void An_adapter_for_other_shapes_does_not_fit_and_a_session_refuses_it()
    {
        using var model = Model.Load(SyntheticModels.Path(GgmlType.F32));
        var wrongShape = LoraAdapter.Load(Write(w => w
            .AddTensor("blk.0.ffn_up.weight.lora_a", GgmlType.F32, [128, 4], F32(512))
            .AddTensor("blk.0.ffn_up.weight.lora_b", GgmlType.F32, [4, 512], F32(4 * 512)), "shape"));
        Assert.Contains("blk.0.ffn_up.weight is 512 × 128 in the adapter", wrongShape.Misfit(model.Config));
        var tooDeep = LoraAdapter.Load(Write(w => w
            .AddTensor("blk.9.attn_v.weight.lora_a", GgmlType.F32, [256, 4], F32(1024))
            .AddTensor("blk.9.attn_v.weight.lora_b", GgmlType.F32, [4, 128], F32(4 * 128)), "deep"));
        Assert.Contains("the model has 3 layers", tooDeep.Misfit(model.Config));
        var otherArch = LoraAdapter.Load(Write(w => w.Set("general.architecture", "qwen2"), "arch"));
        Assert.Contains("architecture 'qwen2'", otherArch.Misfit(model.Config));
        var t = new Cairn.Engine.Inference.Transformer(model);
        Assert.Throws<ArgumentException>(() => t.CreateSession(adapters: [wrongShape]));
    }
}
