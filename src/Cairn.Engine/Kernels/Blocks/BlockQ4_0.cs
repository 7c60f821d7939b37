using System.Runtime.InteropServices;

namespace Cairn.Engine.Kernels.Blocks;

/// <summary>
/// ggml <c>block_q4_0</c>: 32 weights. Element j (0..15) is the low nibble of qs[j], element j+16 the high nibble;
/// value = d * (q - 8). 18 bytes.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4_0
{
    public const int Elements = 32;
    public const int Bytes = 18;

    /// <summary>Scale, IEEE binary16 bits.</summary>
    public ushort D;

    /// <summary>Packed nibbles. // (16)</summary>
    public fixed byte Qs[16];
}
