using Cairn.Engine.Tests.TestSupport;

namespace Cairn.Engine.Tests.Cli;

/// <summary>Long CLI work reports progress on standard error and leaves standard output to the data (src/Cairn.Cli/Commands/CliProgress.cs).</summary>
public sealed class ProgressTests
{
    [Fact]
    public void Synthesize_reports_its_progress_on_standard_error_only()
    {
        string path = Path.Combine(Path.GetTempPath(), $"cairn-progress-{Guid.NewGuid():N}.gguf");
        try
        {
            var r = CairnProcess.Run(null, "synthesize", "--output", path);
            Assert.True(r.ExitCode == 0, r.StdErr);
            Assert.Equal("", r.StdOut);
            string[] lines = r.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal($"writing {path} …", lines[0]);
            Assert.Matches($"^writing {System.Text.RegularExpressions.Regex.Escape(path)}: done in [0-9]+\\.[0-9] s$", lines[^2]);
            Assert.StartsWith($"wrote {path}", lines[^1]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Run_reports_model_loading_on_standard_error_and_keeps_standard_output_for_the_text()
    {
        var r = CairnProcess.Run(null, "run", "--model", ReferenceData.Model("aidreams260K.gguf"), "--prompt", "Once upon a time", "--temperature", "0", "--max-tokens", "12");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(", pixels unfolding like petals\n", r.StdOut);
        Assert.Contains("loading aidreams260K.gguf …\n", r.StdErr);
        Assert.Matches("loading aidreams260K.gguf: done in [0-9]+\\.[0-9] s", r.StdErr);
    }
}
