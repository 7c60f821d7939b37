using System.Security.Cryptography;

namespace Cairn.Protocol.Tests.TestSupport;

/// <summary>A seeded <see cref="RandomNumberGenerator"/> so that tests that generate keys are reproducible.</summary>
public sealed class DeterministicRandom(int seed) : RandomNumberGenerator
{
    private readonly Random _random = new(seed);

    public override void GetBytes(byte[] data) => _random.NextBytes(data);

    public override void GetBytes(Span<byte> data) => _random.NextBytes(data);
}
