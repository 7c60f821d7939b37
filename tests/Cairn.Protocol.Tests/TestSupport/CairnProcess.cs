using System.Diagnostics;

namespace Cairn.Protocol.Tests.TestSupport;

/// <summary>Runs the real <c>cairn</c> CLI in a child process (the same pattern as Cairn.Engine.Tests' runner).</summary>
public static class CairnProcess
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr);

    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Cairn.slnx"))) return dir.FullName;
            }
            throw new DirectoryNotFoundException("Cairn.slnx not found above " + AppContext.BaseDirectory);
        }
    }

    public static string CliPath
    {
        get
        {
            string local = Path.Combine(AppContext.BaseDirectory, "cairn.dll");
            if (File.Exists(local) && File.Exists(Path.Combine(AppContext.BaseDirectory, "cairn.runtimeconfig.json"))) return local;
            string config = AppContext.BaseDirectory.Contains("/Release/") ? "Release" : "Debug";
            string built = Path.Combine(RepositoryRoot, "src", "Cairn.Cli", "bin", config, "net10.0", "cairn.dll");
            return File.Exists(built) ? built : throw new FileNotFoundException("cairn.dll not found; build the solution first", built);
        }
    }

    public static Result Run(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add(CliPath);
        foreach (string a in args) psi.ArgumentList.Add(a);
        if (environment != null)
        {
            foreach (var (k, v) in environment) psi.Environment[k] = v;
        }
        using var p = Process.Start(psi)!;
        p.StandardInput.Close(); // no terminal: the CLI must not wait for a passphrase
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill(true);
            Assert.Fail($"cairn {string.Join(' ', args)} did not finish in 2 minutes");
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }
}
