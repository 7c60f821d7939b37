using System.Globalization;

namespace Cairn.Cli.Bench;

/// <summary>The process's peak resident set size (VmHWM of <c>/proc/self/status</c>); 0 where there is no procfs.</summary>
internal static class PeakMemory
{
    public static long Bytes()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (!line.StartsWith("VmHWM:", StringComparison.Ordinal)) continue;
                string kb = line["VmHWM:".Length..].Trim().Split(' ')[0];
                return long.Parse(kb, NumberStyles.None, CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return 0;
    }
}
