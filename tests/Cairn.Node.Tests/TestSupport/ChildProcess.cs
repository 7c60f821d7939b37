using System.Diagnostics;
using System.Text;

namespace Cairn.Node.Tests.TestSupport;

/// <summary>
/// A long-running <c>cairn</c> child process (gateway or provider). Its output lines are collected as they arrive and
/// tests wait for a given line (a signal, never a sleep), with a bound. Dispose kills the whole process tree.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Done)> _waiters = [];
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildProcess(string name, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        Name = name;
        var psi = CairnCli.StartInfo(args.Concat(["--parent-pid", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)]));
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) psi.Environment[key] = value;
        _process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data, "");
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data, "[err] ");
        _process.Exited += (_, _) => _exited.TrySetResult();
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Name { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public Task Exited => _exited.Task;

    /// <summary>Everything the process wrote so far (standard error lines marked), for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_gate) return $"--- {Name} (pid {Pid}) ---\n" + string.Join('\n', _lines);
        }
    }

    public static ChildProcess Start(string name, params string[] args) => new(name, args);

    /// <summary>As above, with extra environment variables (e.g. the runtime's switches that turn instruction sets off).</summary>
    public static ChildProcess Start(string name, IReadOnlyDictionary<string, string> environment, params string[] args) => new(name, args, environment);

    /// <summary>The first output line (past or future) that <paramref name="match"/> accepts; fails if the process exits or the time runs out first.</summary>
    public async Task<string> WaitForLine(Func<string, bool> match, TimeSpan? timeout = null)
    {
        var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            foreach (string line in _lines)
            {
                if (match(line)) return line;
            }
            _waiters.Add((match, done));
        }
        var limit = Task.Delay(timeout ?? StartTimeout);
        var first = await Task.WhenAny(done.Task, _exited.Task, limit);
        if (first == done.Task) return await done.Task;
        // The process may have written the line just before it exited; output events can trail the exit event.
        if (first == _exited.Task) _process.WaitForExit();
        lock (_gate)
        {
            foreach (string line in _lines)
            {
                if (match(line)) return line;
            }
        }
        Assert.Fail(first == limit
            ? $"{Name}: the expected line did not come within {(timeout ?? StartTimeout).TotalSeconds} s\n{Output}"
            : $"{Name} exited with {_process.ExitCode} before the expected line\n{Output}");
        return "";
    }

    public Task<string> WaitForLine(string prefix, TimeSpan? timeout = null) => WaitForLine(l => l.StartsWith(prefix, StringComparison.Ordinal), timeout);

    /// <summary>Kills the process tree at once (SIGKILL: no goodbye to the gateway) and waits until it is gone.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already exited
        }
        _process.WaitForExit(10_000);
    }

    private void OnLine(string? line, string mark)
    {
        if (line is null) return;
        List<TaskCompletionSource<string>> hit = [];
        lock (_gate)
        {
            _lines.Add(mark + line);
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (!_waiters[i].Match(mark + line)) continue;
                hit.Add(_waiters[i].Done);
                _waiters.RemoveAt(i);
            }
        }
        foreach (var h in hit) h.TrySetResult(mark + line);
    }

    public void Dispose()
    {
        if (!_process.HasExited) Kill();
        _process.Dispose();
    }
}
