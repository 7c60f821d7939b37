using System.Runtime.InteropServices;

namespace Cairn.Engine.Kernels.Blocks;

/// <summary>ggml <c>block_q8_0</c>: 32 weights, value = d * qs[i]. 34 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ8_0
{
    public const int Elements = 32;
    public const int Bytes = 34;

    /// <summary>Scale, IEEE binary16 bits.</summary>
    public ushort D;

    /// <summary>Signed 8-bit quants, element order. // (32)</summary>
    public fixed sbyte Qs[32];
}
