using System.Security.Cryptography;
using Cairn.Protocol.Identity;

namespace Cairn.Cli.Commands;

/// <summary>The identity of a gateway or provider: an encrypted key file, or an ephemeral key when none is given.</summary>
internal static class NodeIdentity
{
    public static Secp256k1Key Load(string? keyPath, string? passphraseEnv, string role)
    {
        if (keyPath is null)
        {
            var key = Secp256k1Key.Generate(RandomNumberGenerator.Create());
            Console.Error.WriteLine($"cairn {role}: no --key given: using an ephemeral identity {key.Address} (create one with 'cairn keys new')");
            return key;
        }
        return KeyFile.Load(keyPath, KeysCommand.Passphrase(passphraseEnv, confirm: false));
    }

    /// <summary>Stops the host when the process that started this one exits (devnet children never outlive devnet).</summary>
    public static void ExitWithParent(int? parentPid, CancellationTokenSource stop)
    {
        if (parentPid is not { } pid) return;
        _ = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var parent = System.Diagnostics.Process.GetProcessById(pid);
                    if (parent.HasExited) break;
                }
                catch (ArgumentException)
                {
                    break;
                }
                await Task.Delay(500);
            }
            stop.Cancel();
        });
    }
}
