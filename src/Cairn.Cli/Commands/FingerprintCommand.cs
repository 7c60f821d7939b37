using System.CommandLine;
using Cairn.Engine.Kernels;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn fingerprint</c> (hidden): a hash of every kernel's output on fixed inputs, equal on every machine.</summary>
internal static class FingerprintCommand
{
    public static Command Create()
    {
        var command = new Command("fingerprint", "Print a hash of every kernel's output on fixed inputs (identical on every machine)") { Hidden = true };
        command.SetAction(_ =>
        {
            Console.Error.WriteLine($"kernel paths: {KernelOptions.Describe()}");
            Console.WriteLine(KernelFingerprint.Compute());
            return 0;
        });
        return command;
    }
}
