using System.Text.Json;
using Cairn.Engine.Tests.TestSupport;

namespace Cairn.Engine.Tests.Cli;

/// <summary><c>cairn bench</c>: argument errors, the JSON schema and the synthetic-model cache. No test asserts a time.</summary>
public sealed class BenchCommandTests : IDisposable
{
    private readonly string _cache = Path.Combine(Path.GetTempPath(), $"cairn-bench-test-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_cache)) Directory.Delete(_cache, recursive: true);
    }

    private CairnProcess.Result Bench(params string[] args) =>
        CairnProcess.Run(new Dictionary<string, string> { ["XDG_CACHE_HOME"] = _cache }, ["bench", .. args]);

    [Theory]
    [InlineData("synthetic shape 'huge' is unknown (known: tiny, 110m, 1.1b)", "--model", "synthetic:huge:Q8_0")]
    [InlineData("synthetic weight type 'Q5_K' is unknown", "--model", "synthetic:tiny:Q5_K")]
    [InlineData("is not of the form synthetic:SHAPE:TYPE", "--model", "synthetic:tiny")]
    [InlineData("no such model file", "--model", "/nonexistent/model.gguf")]
    [InlineData("--threads 0 is out of range", "--model", "synthetic:tiny:Q8_0", "--threads", "0")]
    [InlineData("--repeats 0 is out of range", "--model", "synthetic:tiny:Q8_0", "--repeats", "0")]
    [InlineData("--prompt-tokens -1 is out of range", "--model", "synthetic:tiny:Q8_0", "--prompt-tokens", "-1")]
    [InlineData("nothing to measure", "--model", "synthetic:tiny:Q8_0", "--prompt-tokens", "0", "--gen-tokens", "0")]
    [InlineData("must each fit the model's context of 2048 positions", "--model", "synthetic:tiny:Q8_0", "--gen-tokens", "3000")]
    public void Bad_arguments_give_one_clear_error_and_exit_code_2(string message, params string[] args)
    {
        var r = Bench(args);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.StdErr);
        Assert.DoesNotContain("   at ", r.StdErr);
        Assert.Equal("", r.StdOut);
    }

    [Fact]
    public void A_file_that_is_not_gguf_is_refused()
    {
        Directory.CreateDirectory(_cache);
        string path = Path.Combine(_cache, "junk.gguf");
        File.WriteAllBytes(path, new byte[100]);
        var r = Bench("--model", path);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("not a GGUF file", r.StdErr);
        Assert.Equal("", r.StdOut);
    }

    [Fact]
    public void A_bad_shape_writes_nothing_to_the_cache()
    {
        Assert.Equal(2, Bench("--model", "synthetic:huge:Q8_0").ExitCode);
        Assert.False(Directory.Exists(Path.Combine(_cache, "cairn", "models")) && Directory.EnumerateFiles(Path.Combine(_cache, "cairn", "models")).Any());
    }

    [Theory]
    [InlineData("Q8_0", "Q8_0")]
    [InlineData("Q4_K_M", "Q4_K_M")]
    [InlineData("f16", "F16")]
    public void Json_is_one_object_with_the_documented_fields(string type, string expectedType)
    {
        var r = Bench("--model", $"synthetic:tiny:{type}", "--threads", "2", "--prompt-tokens", "8", "--gen-tokens", "4", "--repeats", "3", "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.StdOut); // the whole of standard output is the one object
        var root = doc.RootElement;
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        Assert.Equal(expectedType, root.GetProperty("weight_type").GetString());
        Assert.Equal(2, root.GetProperty("threads").GetInt32());
        Assert.Equal(8, root.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(4, root.GetProperty("gen_tokens").GetInt32());
        Assert.Equal(3, root.GetProperty("repeats").GetInt32());
        foreach (string test in new[] { "prefill_tok_s", "decode_tok_s" })
        {
            double median = root.GetProperty(test).GetDouble(), min = root.GetProperty(test + "_min").GetDouble(), max = root.GetProperty(test + "_max").GetDouble();
            Assert.True(median > 0, test);
            Assert.True(min <= median && median <= max, $"{test}: {min} <= {median} <= {max}");
        }
        Assert.True(root.GetProperty("peak_rss_bytes").GetInt64() > 0);
        Assert.True(root.GetProperty("file_bytes").GetInt64() > 0);
        Assert.True(root.GetProperty("kv_cache_bytes").GetInt64() > 0);
        Assert.Equal(JsonValueKind.Array, root.GetProperty("cpu_features").ValueKind);
        Assert.StartsWith(Path.Combine(_cache, "cairn", "models"), root.GetProperty("path").GetString());
        // Progress went to standard error.
        Assert.Contains("bench: writing synthetic:tiny:", r.StdErr);
        Assert.Contains("bench: decode 3/3", r.StdErr);
    }

    [Fact]
    public void A_synthetic_model_is_written_once_and_then_reused()
    {
        var first = Bench("--model", "synthetic:tiny:Q4_0", "--prompt-tokens", "4", "--gen-tokens", "2", "--repeats", "1");
        Assert.Equal(0, first.ExitCode);
        Assert.Contains("bench: writing", first.StdErr);
        string file = Assert.Single(Directory.GetFiles(Path.Combine(_cache, "cairn", "models")));
        var written = File.GetLastWriteTimeUtc(file);

        var second = Bench("--model", "synthetic:tiny:Q4_0", "--prompt-tokens", "4", "--gen-tokens", "2", "--repeats", "1");
        Assert.Equal(0, second.ExitCode);
        Assert.DoesNotContain("bench: writing", second.StdErr);
        Assert.Equal(written, File.GetLastWriteTimeUtc(file));
        Assert.Contains("| Q4_0 | ", second.StdOut);
        Assert.Contains("| tg2 |", second.StdOut);
        Assert.Contains("| pp4 |", second.StdOut);
    }

    [Fact]
    public void A_gguf_file_is_benchmarked_and_its_weight_types_named()
    {
        var r = Bench("--model", ReferenceData.Model("tiny-Q4_K_M.gguf"), "--threads", "1", "--prompt-tokens", "4", "--gen-tokens", "2", "--repeats", "1", "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.StdOut);
        Assert.StartsWith("Q4_K", doc.RootElement.GetProperty("weight_type").GetString());
        Assert.Equal(1, doc.RootElement.GetProperty("threads").GetInt32());
    }

    [Theory]
    [InlineData("synthetic:tiny:Q4_0")]
    [InlineData("tiny-Q4_K_M.gguf")]
    public void Bandwidth_gives_the_decode_limit_from_the_weight_bytes_one_token_reads(string model)
    {
        string arg = model.StartsWith("synthetic:") ? model : ReferenceData.Model(model);
        var r = Bench("--model", arg, "--threads", "2", "--prompt-tokens", "4", "--gen-tokens", "4", "--repeats", "1", "--json", "--bandwidth");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.StdOut);
        var root = doc.RootElement;
        // Independently of the engine's loader: every tensor of the file once, the token embedding one row (all of it when it is also the head).
        using var file = Cairn.Engine.Gguf.GgufFile.Open(root.GetProperty("path").GetString()!);
        long all = file.Tensors.Sum(t => t.ByteSize);
        var embedding = file.GetTensor("token_embd.weight");
        long expected = file.TryGetTensor("output.weight", out _) ? all - embedding.ByteSize + embedding.ByteSize / embedding.Rows : all;
        long perToken = root.GetProperty("weight_bytes_per_token").GetInt64();
        Assert.Equal(expected, perToken);
        Assert.True(perToken < root.GetProperty("file_bytes").GetInt64());
        double bandwidth = root.GetProperty("bandwidth_bytes_s").GetDouble();
        Assert.InRange(bandwidth, 1e8, 1e13); // a real measurement, in a plausible range for any machine
        Assert.Equal(bandwidth / perToken, root.GetProperty("decode_limit_tok_s").GetDouble(), 0.01);
        Assert.Equal(100 * root.GetProperty("decode_tok_s").GetDouble() / root.GetProperty("decode_limit_tok_s").GetDouble(),
            root.GetProperty("decode_percent_of_limit").GetDouble(), 0.2);
        Assert.Contains("measuring memory read bandwidth on 2 thread(s)", r.StdErr);
    }

    [Fact]
    public void Without_bandwidth_no_limit_is_reported()
    {
        var r = Bench("--model", "synthetic:tiny:Q8_0", "--prompt-tokens", "4", "--gen-tokens", "2", "--repeats", "1", "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.StdOut);
        Assert.True(doc.RootElement.GetProperty("weight_bytes_per_token").GetInt64() > 0);
        Assert.False(doc.RootElement.TryGetProperty("bandwidth_bytes_s", out _));
        Assert.False(doc.RootElement.TryGetProperty("decode_limit_tok_s", out _));
    }
}
