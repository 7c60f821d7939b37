using System.Diagnostics;

namespace Cairn.Engine.Tests.TestSupport;

/// <summary>Runs the real <c>cairn</c> CLI in a child process with a chosen environment.</summary>
public static class CairnProcess
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr)
    {
        /// <summary>The key=value pairs of the last standard-error line (the run summary).</summary>
        public Dictionary<string, string> Summary()
        {
            string last = StdErr.TrimEnd().Split('\n')[^1];
            return last.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(p => p.Contains('='))
                .ToDictionary(p => p[..p.IndexOf('=')], p => p[(p.IndexOf('=') + 1)..]);
        }
    }

    public static string CliPath
    {
        get
        {
            string local = Path.Combine(AppContext.BaseDirectory, "cairn.dll");
            if (File.Exists(local) && File.Exists(Path.Combine(AppContext.BaseDirectory, "cairn.runtimeconfig.json"))) return local;
            string config = AppContext.BaseDirectory.Contains("/Release/") ? "Release" : "Debug";
            string built = Path.Combine(ReferenceData.RepositoryRoot, "src", "Cairn.Cli", "bin", config, "net10.0", "cairn.dll");
            return File.Exists(built) ? built : throw new FileNotFoundException("cairn.dll not found; build the solution first", built);
        }
    }

    public static Result Run(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add(CliPath);
        foreach (string a in args) psi.ArgumentList.Add(a);
        foreach (string key in new[] { "DOTNET_EnableAVX512F", "DOTNET_EnableAVX2", "DOTNET_EnableHWIntrinsic" }) psi.Environment.Remove(key);
        if (environment != null)
        {
            foreach (var (k, v) in environment) psi.Environment[k] = v;
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            p.Kill(true);
            Assert.Fail($"cairn {string.Join(' ', args)} did not finish in 5 minutes");
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }
}
