using System.Buffers.Binary;
using Cairn.Engine.Tensors;

namespace Cairn.Engine.Tests.TestSupport;

/// <summary>Seeded inputs for the kernel tests and a bit-exact float comparison.</summary>
internal static class KernelTestData
{
    public static float[] Floats(Random rng, int n, float range)
    {
        var values = new float[n];
        for (int i = 0; i < n; i++) values[i] = (float)((rng.NextDouble() * 2 - 1) * range);
        return values;
    }

    /// <summary>Binary16 bits of a finite number with magnitude in [2^-10, 1), random sign.</summary>
    public static ushort SaneHalfBits(Random rng) =>
        (ushort)((rng.Next(2) << 15) | ((5 + rng.Next(10)) << 10) | rng.Next(1024));

    /// <summary>Random row bytes of <paramref name="type"/>; scale fields are sane finite halves, quant bytes fully random.</summary>
    public static byte[] Row(Random rng, GgmlType type, int cols)
    {
        var row = new byte[GgmlTypeInfo.RowBytes(type, cols)];
        rng.NextBytes(row);
        switch (type)
        {
            case GgmlType.F32:
                for (int i = 0; i < cols; i++) BinaryPrimitives.WriteSingleLittleEndian(row.AsSpan(4 * i), (float)(rng.NextDouble() * 4 - 2));
                break;
            case GgmlType.F16:
                for (int i = 0; i < cols; i++) BinaryPrimitives.WriteUInt16LittleEndian(row.AsSpan(2 * i), SaneHalfBits(rng));
                break;
            case GgmlType.BF16:
                for (int i = 0; i < cols; i++) BinaryPrimitives.WriteUInt16LittleEndian(row.AsSpan(2 * i), (ushort)(BitConverter.SingleToUInt32Bits((float)(rng.NextDouble() * 4 - 2)) >> 16));
                break;
            default:
                int blockBytes = GgmlTypeInfo.BlockBytes(type);
                int[] halves = type switch { GgmlType.Q4_K => [0, 2], GgmlType.Q6_K => [208], _ => [0] };
                for (int at = 0; at < row.Length; at += blockBytes)
                {
                    foreach (int o in halves) BinaryPrimitives.WriteUInt16LittleEndian(row.AsSpan(at + o), SaneHalfBits(rng));
                }

                break;
        }

        return row;
    }

    public static void BitEqual(float expected, float actual, string context)
    {
        int e = BitConverter.SingleToInt32Bits(expected), a = BitConverter.SingleToInt32Bits(actual);
        if (e != a) Assert.Fail($"{context}: expected {expected:R} (0x{e:X8}), got {actual:R} (0x{a:X8})");
    }

    public static void BitEqual(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string context)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) BitEqual(expected[i], actual[i], $"{context}, element {i}");
    }
}
