using System.Diagnostics;

namespace Cairn.Ledger.Tests.TestSupport;

/// <summary>Starts this test assembly as a child process running <c>cairn ledger …</c> (see <see cref="ChildProgram"/>).</summary>
public static class ChildProcess
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr);

    public static Process Start(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add(typeof(ChildProgram).Assembly.Location);
        foreach (string a in args) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        p.StandardInput.Close();
        return p;
    }

    public static Result Run(params string[] args)
    {
        using var p = Start(args);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill(true);
            Assert.Fail($"ledger child {string.Join(' ', args)} did not finish in 2 minutes");
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }
}
