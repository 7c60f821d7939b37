using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Cairn.Cli.Devnet;

/// <summary>
/// A <c>cairn</c> child process (gateway or provider) of a devnet: its standard output is watched for its readiness
/// lines and copied, with standard error, to a log file. Stopping sends SIGTERM (a clean host shutdown), then kills
/// the process if it has not exited in time.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly List<string> _lines = [];
    private readonly Lock _gate = new();
    private TaskCompletionSource<string>? _waiting;
    private string? _waitPrefix;

    private ChildProcess(string name, Process process, string logPath)
    {
        Name = name;
        _process = process;
        LogPath = logPath;
        _log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => OnLine(e.Data, "out");
        process.ErrorDataReceived += (_, e) => OnLine(e.Data, "err");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Name { get; }
    public string LogPath { get; }
    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>Starts this same <c>cairn</c> program with <paramref name="args"/>.</summary>
    public static ChildProcess Start(string name, IEnumerable<string> args, string logPath, IReadOnlyDictionary<string, string> environment)
    {
        var psi = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        string self = Environment.ProcessPath ?? "dotnet";
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            psi.FileName = self;
            psi.ArgumentList.Add("exec");
            psi.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        }
        else psi.FileName = self;
        foreach (string a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {name}");
        return new ChildProcess(name, p, logPath);
    }

    private void OnLine(string? line, string stream)
    {
        if (line is null) return;
        lock (_gate)
        {
            _log.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {stream} {line}");
            _lines.Add(line);
            if (_waiting != null && line.StartsWith(_waitPrefix!, StringComparison.Ordinal)) _waiting.TrySetResult(line);
        }
    }

    /// <summary>The first standard output line starting with <paramref name="prefix"/>; fails if the process exits first.</summary>
    public async Task<string> WaitForLine(string prefix, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task<string> task;
        lock (_gate)
        {
            string? seen = _lines.Find(l => l.StartsWith(prefix, StringComparison.Ordinal));
            if (seen != null) return seen;
            _waiting = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waitPrefix = prefix;
            task = _waiting.Task;
        }
        var exited = _process.WaitForExitAsync(cancellationToken);
        var done = await Task.WhenAny(task, exited, Task.Delay(timeout, cancellationToken));
        if (done == task) return await task;
        cancellationToken.ThrowIfCancellationRequested();
        if (done == exited) throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} before it was ready; see {LogPath}:\n{Tail()}");
        throw new TimeoutException($"{Name} was not ready after {timeout.TotalSeconds:F0} s; see {LogPath}");
    }

    public string Tail(int lines = 8)
    {
        lock (_gate) return string.Join('\n', _lines.TakeLast(lines));
    }

    /// <summary>SIGTERM, then a kill after <paramref name="grace"/>.</summary>
    public void Stop(TimeSpan grace)
    {
        if (_process.HasExited) return;
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) _ = Kill(_process.Id, 15);
        else _process.Kill(entireProcessTree: true);
        if (!_process.WaitForExit(grace)) _process.Kill(entireProcessTree: true);
    }

    public void Dispose()
    {
        Stop(TimeSpan.FromSeconds(3));
        _process.Dispose();
        lock (_gate) _log.Dispose();
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
