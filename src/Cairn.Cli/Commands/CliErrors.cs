using Cairn.Engine.Gguf;
using Cairn.Protocol.Identity;

namespace Cairn.Cli.Commands;

/// <summary>Turns expected failures (bad files, bad arguments) into one clear line on standard error and exit code 2.</summary>
internal static class CliErrors
{
    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is GgufFormatException or KeyFileException or FileNotFoundException or ArgumentException or InvalidOperationException or NotSupportedException or IOException)
        {
            Console.Error.WriteLine($"cairn: error: {e.Message}");
            return 2;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("cairn: cancelled");
            return 130;
        }
    }
}
