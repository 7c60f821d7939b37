using Cairn.Engine.Gguf;
using Cairn.Engine.Tokenization;

namespace Cairn.Engine.Tests.Tokenization;

/// <summary>Malformed vocabularies are refused with an error naming the file and the offending field.</summary>
public sealed class HostileTokenizerFileTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"cairn-tok-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (File.Exists(_path)) File.Delete(_path);
    }

    private static GgufWriter Spm(string[] tokens) => new GgufWriter()
        .Set("general.architecture", "llama")
        .Set("tokenizer.ggml.model", "llama")
        .Set("tokenizer.ggml.tokens", tokens);

    private GgufFormatException Rejected(GgufWriter writer)
    {
        writer.AddTensor("pad", Cairn.Engine.Tensors.GgmlType.F32, [1], new byte[4]).Write(_path);
        using var file = GgufFile.Open(_path);
        var e = Assert.Throws<GgufFormatException>(() => Tokenizer.FromGguf(file));
        Assert.Contains(_path, e.Message);
        return e;
    }

    [Fact]
    public void Scores_shorter_than_tokens_are_rejected()
    {
        var e = Rejected(Spm(["<unk>", "<s>", "</s>", "a"]).Set("tokenizer.ggml.scores", new float[] { 0, 0 }));
        Assert.Contains("tokenizer.ggml.scores", e.Message);
    }

    [Fact]
    public void Token_types_longer_than_tokens_are_rejected()
    {
        var e = Rejected(Spm(["<unk>", "<s>", "</s>"]).Set("tokenizer.ggml.token_type", new[] { 2, 3, 3, 1, 1 }));
        Assert.Contains("tokenizer.ggml.token_type", e.Message);
    }

    [Fact]
    public void A_bos_id_beyond_the_vocabulary_is_rejected()
    {
        var e = Rejected(Spm(["<unk>", "<s>", "</s>"]).Set("tokenizer.ggml.bos_token_id", 3u));
        Assert.Contains("tokenizer.ggml.bos_token_id", e.Message);
        Assert.Contains("3", e.Message);
    }

    [Fact]
    public void An_empty_vocabulary_is_rejected()
    {
        var e = Rejected(Spm([]));
        Assert.Contains("empty", e.Message);
    }

    [Fact]
    public void Duplicate_token_texts_are_rejected()
    {
        var e = Rejected(Spm(["<unk>", "a", "a"]));
        Assert.Contains("twice", e.Message);
    }

    [Fact]
    public void An_unknown_tokenizer_model_is_named_in_the_error()
    {
        var e = Rejected(Spm(["a"]).Set("tokenizer.ggml.model", "wordpiece-9000"));
        Assert.Contains("wordpiece-9000", e.Message);
    }

    [Fact]
    public void A_bpe_vocabulary_without_merges_is_rejected()
    {
        var e = Rejected(Spm(["a", "b"]).Set("tokenizer.ggml.model", "gpt2"));
        Assert.Contains("tokenizer.ggml.merges", e.Message);
    }

    [Fact]
    public void An_unknown_pre_tokenizer_falls_back_to_default_and_says_so()
    {
        new GgufWriter().Set("tokenizer.ggml.model", "gpt2").Set("tokenizer.ggml.pre", "martian")
            .Set("tokenizer.ggml.tokens", ["a", "b", "ab"]).Set("tokenizer.ggml.merges", ["a b"])
            .AddTensor("pad", Cairn.Engine.Tensors.GgmlType.F32, [1], new byte[4]).Write(_path);
        using var file = GgufFile.Open(_path);
        var bpe = Assert.IsType<BpeTokenizer>(Tokenizer.FromGguf(file));
        Assert.True(bpe.PreTokenizer.IsFallback);
        Assert.Equal("default", bpe.PreTokenizer.Name);
        Assert.Equal([2, 0], bpe.Encode("aba", addBos: false));
        Assert.False(bpe.AddBos);
    }

    private static byte[] Llama2CBin(int maxLength, params (float Score, byte[] Bytes)[] tokens)
    {
        var ms = new MemoryStream();
        var w = new BinaryWriter(ms);
        w.Write(maxLength);
        foreach (var (score, bytes) in tokens)
        {
            w.Write(score);
            w.Write(bytes.Length);
            w.Write(bytes);
        }
        return ms.ToArray();
    }

    private static readonly (float, byte[])[] s_tiny = [(0f, "<unk>"u8.ToArray()), (0f, "<s>"u8.ToArray()), (0f, "</s>"u8.ToArray()), (-1f, "a"u8.ToArray())];

    [Fact]
    public void A_truncated_tokenizer_bin_is_rejected()
    {
        byte[] data = Llama2CBin(5, s_tiny);
        File.WriteAllBytes(_path, data[..^1]);
        var e = Assert.Throws<GgufFormatException>(() => Tokenizer.FromLlama2C(_path, 4));
        Assert.Contains(_path, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void An_absurd_vocab_size_is_rejected_before_reading()
    {
        File.WriteAllBytes(_path, Llama2CBin(5, s_tiny));
        var e = Assert.Throws<GgufFormatException>(() => Tokenizer.FromLlama2C(_path, 100_000_000));
        Assert.Contains("vocab_size", e.Message);
        e = Assert.Throws<GgufFormatException>(() => Tokenizer.FromLlama2C(_path, 1_000_000));
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void A_token_longer_than_max_token_length_is_rejected()
    {
        File.WriteAllBytes(_path, Llama2CBin(2, s_tiny));
        var e = Assert.Throws<GgufFormatException>(() => Tokenizer.FromLlama2C(_path, 4));
        Assert.Contains("max_token_length", e.Message);
        Assert.Contains("token 0", e.Message);
    }

    [Fact]
    public void A_negative_max_token_length_is_rejected()
    {
        File.WriteAllBytes(_path, Llama2CBin(-7, s_tiny));
        var e = Assert.Throws<GgufFormatException>(() => Tokenizer.FromLlama2C(_path, 4));
        Assert.Contains("-7", e.Message);
    }
}
