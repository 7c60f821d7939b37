using Cairn.Engine.Kernels;

/// <summary>
/// A .NET startup hook (DOTNET_STARTUP_HOOKS) that lets a test re-run the kernel fingerprint in a fresh process with
/// different hardware settings: when CAIRN_KERNEL_FINGERPRINT_HOOK=1 it prints the vector paths in use and the
/// fingerprint, then exits before the host's Main. The runtime requires this exact name in the global namespace.
/// </summary>
internal static class StartupHook
{
    public const string EnableVariable = "CAIRN_KERNEL_FINGERPRINT_HOOK";

    public static void Initialize()
    {
        if (Environment.GetEnvironmentVariable(EnableVariable) != "1") return;
        Console.Out.WriteLine(KernelOptions.Describe());
        Console.Out.WriteLine(KernelFingerprint.Compute());
        Console.Out.Flush();
        Environment.Exit(0);
    }
}
