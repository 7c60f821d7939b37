using System.Diagnostics;
using System.Globalization;

namespace Cairn.Cli.Commands;

/// <summary>
/// Progress of long CLI work on standard error (never standard output, which may carry data or the lines other
/// processes wait for): "WHAT …" at the start, "WHAT … N s DETAIL" every <see cref="Interval"/> while it runs, and
/// "WHAT: done in N s" at the end. The engine does not report progress itself (it never logs), so this shows that the
/// work is alive, how long it has taken and, where the CLI can see it, how far it got (bytes written).
/// </summary>
internal static class CliProgress
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    public static T Run<T>(string what, Func<T> work, Func<string>? detail = null)
    {
        var clock = Stopwatch.StartNew();
        Console.Error.WriteLine($"{what} …");
        using var stop = new CancellationTokenSource();
        var ticker = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(Interval);
            try
            {
                while (await timer.WaitForNextTickAsync(stop.Token))
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what} … {clock.Elapsed.TotalSeconds:F0} s{(detail is null ? "" : " " + detail())}"));
            }
            catch (OperationCanceledException)
            {
            }
        });
        T result;
        try
        {
            result = work();
        }
        finally
        {
            stop.Cancel();
            ticker.Wait();
        }
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what}: done in {clock.Elapsed.TotalSeconds:F1} s"));
        return result;
    }

    public static void Run(string what, Action work, Func<string>? detail = null) => Run(what, () =>
    {
        work();
        return 0;
    }, detail);

    /// <summary>"N MB" of a file being written, or nothing before it exists.</summary>
    public static string FileSize(string path) =>
        File.Exists(path) ? string.Create(CultureInfo.InvariantCulture, $"({new FileInfo(path).Length / 1e6:F1} MB written)") : "";
}
