using Cairn.Engine.Tests.TestSupport;

namespace Cairn.Engine.Tests.Cli;

public sealed class CliTests
{
    [Fact]
    public void Run_without_a_model_says_it_uses_a_synthetic_model_and_generates()
    {
        var r = CairnProcess.Run(null, "run", "--max-tokens", "5", "--seed", "1", "--threads", "1", "--commitment");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("no --model given: using a synthetic model with random weights", r.StdErr);
        var s = r.Summary();
        Assert.Equal("5", s["tokens"]);
        Assert.Matches("^[0-9a-f]{64}$", s["commitment"]);
        Assert.Equal("1", s["seed"]);
        Assert.True(double.Parse(s["decode_tok_s"], System.Globalization.CultureInfo.InvariantCulture) > 0);
    }

    [Fact]
    public void Run_streams_the_real_model_text_to_standard_output()
    {
        var r = CairnProcess.Run(null, "run", "--model", ReferenceData.Model("aidreams260K.gguf"), "--prompt", "Once upon a time",
            "--temperature", "0", "--max-tokens", "12");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(", pixels unfolding like petals\n", r.StdOut);
        Assert.Equal("12", r.Summary()["tokens"]);
        Assert.Equal("length", r.Summary()["stop"]);
        Assert.DoesNotContain("commitment", r.StdErr);
    }

    [Theory]
    [InlineData("no such model file", "run", "--model", "/nonexistent/model.gguf")]
    [InlineData("temperature -1 is out of range", "run", "--temperature", "-1")]
    [InlineData("--threads 0 is out of range", "run", "--threads", "0")]
    [InlineData("--max-tokens -3 is negative", "run", "--max-tokens", "-3")]
    [InlineData("not a GGUF file", "inspect", "/work/shared/reference/models/tok512.bin")]
    public void Bad_arguments_give_one_clear_error_and_exit_code_2(string message, params string[] args)
    {
        var r = CairnProcess.Run(null, args);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.StdErr);
        Assert.DoesNotContain("   at ", r.StdErr); // no stack trace
    }

    [Fact]
    public void Llama2c_checkpoint_without_its_tokenizer_asks_for_it()
    {
        var r = CairnProcess.Run(null, "run", "--model", ReferenceData.Model("aidreams260K.bin"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--tokenizer", r.StdErr);
    }

    [Fact]
    public void Inspect_prints_metadata_and_tensor_table()
    {
        var r = CairnProcess.Run(null, "inspect", ReferenceData.Model("tiny-Q4_K_M.gguf"));
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("general.architecture = \"llama\"", r.StdOut);
        Assert.Contains("tokenizer.ggml.tokens = [String × 512]", r.StdOut);
        Assert.Matches(@"blk\.0\.attn_q\.weight\s+Q4_K\s+\[256, 256\]", r.StdOut);
        Assert.Contains("tensors (", r.StdOut);
    }

    [Fact]
    public void Help_lists_every_run_option()
    {
        var r = CairnProcess.Run(null, "run", "--help");
        Assert.Equal(0, r.ExitCode);
        foreach (string option in new[] { "--model", "--tokenizer", "--prompt", "--max-tokens", "--temperature", "--top-k", "--top-p", "--min-p", "--repeat-penalty", "--seed", "--threads", "--commitment" })
            Assert.Contains(option, r.StdOut);
    }
}
