using System.Diagnostics;

namespace Cairn.Node.Tests.TestSupport;

/// <summary>Finds the built <c>cairn.dll</c> and runs short <c>cairn</c> commands to completion in a child process.</summary>
public static class CairnCli
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr);

    public static string Path
    {
        get
        {
            string local = System.IO.Path.Combine(AppContext.BaseDirectory, "cairn.dll");
            if (File.Exists(local) && File.Exists(System.IO.Path.Combine(AppContext.BaseDirectory, "cairn.runtimeconfig.json"))) return local;
            string config = AppContext.BaseDirectory.Contains("/Release/") ? "Release" : "Debug";
            string built = System.IO.Path.Combine(ReferenceData.RepositoryRoot, "src", "Cairn.Cli", "bin", config, "net10.0", "cairn.dll");
            return File.Exists(built) ? built : throw new FileNotFoundException("cairn.dll not found; build the solution first", built);
        }
    }

    /// <summary>The start info of <c>dotnet exec cairn.dll ARGS</c> with redirected output and no SIMD switches inherited.</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add(Path);
        foreach (string a in args) psi.ArgumentList.Add(a);
        foreach (string key in new[] { "DOTNET_EnableAVX512F", "DOTNET_EnableAVX2", "DOTNET_EnableHWIntrinsic" }) psi.Environment.Remove(key);
        return psi;
    }

    public static async Task<Result> RunAsync(params string[] args)
    {
        using var p = Process.Start(StartInfo(args))!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await p.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"cairn {string.Join(' ', args)} did not finish in 2 minutes");
        }
        return new Result(p.ExitCode, await stdout, await stderr);
    }
}
