using System.Runtime.InteropServices;

namespace Cairn.Engine.Commitments;

/// <summary>
/// The bytes that are hashed for a float vector: little-endian fp32, with every NaN replaced by the one quiet NaN
/// 0x7FC00000. Which NaN payload an operation returns depends on the instruction set and the operand order, so a
/// model that produces NaN would otherwise hash differently on different machines.
/// </summary>
public static class CanonicalFloats
{
    public const uint CanonicalNaN = 0x7FC00000;

    public static ReadOnlySpan<byte> Bytes(ReadOnlySpan<float> values)
    {
        int first = -1;
        for (int i = 0; i < values.Length; i++)
        {
            if (float.IsNaN(values[i]))
            {
                first = i;
                break;
            }
        }
        if (first < 0) return MemoryMarshal.AsBytes(values); // x64 and arm64 are little-endian
        var copy = values.ToArray();
        for (int i = first; i < copy.Length; i++)
        {
            if (float.IsNaN(copy[i])) copy[i] = BitConverter.UInt32BitsToSingle(CanonicalNaN);
        }
        return MemoryMarshal.AsBytes(copy.AsSpan());
    }
}
