using System.Diagnostics;
using Cairn.Engine.Kernels;

namespace Cairn.Engine.Tests.Kernels;

/// <summary>
/// Re-runs <see cref="KernelFingerprint"/> in child processes with AVX-512, AVX2 or all hardware intrinsics switched
/// off (DESIGN.md §3) and requires the very same hash, so the 256-bit, 128-bit and scalar paths are checked on a
/// machine whose in-process tests only reach the widest one.
/// </summary>
public class KernelFingerprintSubprocessTests
{
    public static TheoryData<string, string> Settings => new()
    {
        // .NET 10 reads DOTNET_EnableAVX512 (DOTNET_EnableAVX512F is no longer honoured).
        { "DOTNET_EnableAVX512", "Vector512=False" },
        { "DOTNET_EnableAVX2", "Vector256=False" },
        { "DOTNET_EnableAVXVNNI", "AvxVnni=False" },   // AVX2 without AVX-VNNI (e.g. Zen 3, Ice Lake)
        { "DOTNET_EnableHWIntrinsic", "Vector128=False" },
    };

    [Theory]
    [MemberData(nameof(Settings))]
    public void Fingerprint_is_the_same_with_hardware_paths_switched_off(string variable, string expectedPath)
    {
        string expected = KernelFingerprint.Compute(referenceOnly: true);
        (string paths, string fingerprint) = RunChild(variable);
        Assert.Contains(expectedPath, paths);
        Assert.Equal(expected, fingerprint);
    }

    private static (string Paths, string Fingerprint) RunChild(string disabledVariable)
    {
        string assembly = typeof(StartupHook).Assembly.Location;
        var start = new ProcessStartInfo(DotnetHost(), ["exec", assembly])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["DOTNET_STARTUP_HOOKS"] = assembly;
        start.Environment[StartupHook.EnableVariable] = "1";
        start.Environment[disabledVariable] = "0";
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("could not start the child process");
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(60_000), "the child process did not finish within 60 s");
        Assert.True(process.ExitCode == 0, $"child exited with {process.ExitCode}: {stdout} {stderr.Result}");
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length >= 2, $"unexpected child output: {stdout} {stderr.Result}");
        return (lines[^2], lines[^1]);
    }

    private static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host)) return host;
        string? self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        return "dotnet";
    }
}
