using System.Runtime.InteropServices;

namespace Cairn.Engine.Kernels.Blocks;

/// <summary>
/// ggml <c>block_q4_K</c>: a super-block of 256 weights in 8 sub-blocks of 32. 144 bytes.
/// Sub-block s has a 6-bit scale sc and 6-bit min m packed in <see cref="Scales"/> (see <see cref="GetScaleMin"/>,
/// ggml's <c>get_scale_min_k4</c>). Sub-blocks 2i and 2i+1 share qs[32i .. 32i+31]: 2i takes the low nibbles,
/// 2i+1 the high nibbles. value = (d * sc) * q - (dmin * m).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4_K
{
    public const int Elements = 256;
    public const int Bytes = 144;

    /// <summary>Super-block scale for the sub-block scales, binary16 bits.</summary>
    public ushort D;

    /// <summary>Super-block scale for the sub-block mins, binary16 bits.</summary>
    public ushort DMin;

    /// <summary>8 scales and 8 mins, 6 bits each. // (12)</summary>
    public fixed byte Scales[12];

    /// <summary>4-bit quants. // (128)</summary>
    public fixed byte Qs[128];

    /// <summary>Scale and min of sub-block <paramref name="j"/> (0..7) from the 12 packed bytes.</summary>
    public static void GetScaleMin(int j, ReadOnlySpan<byte> scales, out int sc, out int m)
    {
        if (j < 4)
        {
            sc = scales[j] & 63;
            m = scales[j + 4] & 63;
        }
        else
        {
            sc = (scales[j + 4] & 0xF) | ((scales[j - 4] >> 6) << 4);
            m = (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4);
        }
    }
}
