using System.Runtime.InteropServices;

namespace Cairn.Engine.Kernels.Blocks;

/// <summary>
/// ggml <c>block_q6_K</c>: a super-block of 256 weights in 16 sub-blocks of 16, value = (d * scales[e / 16]) * (q - 32).
/// 210 bytes. For element e = 128n + 32t + l (n 0..1, t 0..3, l 0..31) the low 4 bits are
/// ql[64n + l + 32 (t &amp; 1)] (low nibble for t &lt; 2, high nibble otherwise) and the high 2 bits are
/// (qh[32n + l] &gt;&gt; 2t) &amp; 3.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ6_K
{
    public const int Elements = 256;
    public const int Bytes = 210;
    public const int QlOffset = 0;
    public const int QhOffset = 128;
    public const int ScalesOffset = 192;
    public const int DOffset = 208;

    /// <summary>Low 4 bits of the quants. // (128)</summary>
    public fixed byte Ql[128];

    /// <summary>High 2 bits of the quants. // (64)</summary>
    public fixed byte Qh[64];

    /// <summary>Signed 8-bit sub-block scales. // (16)</summary>
    public fixed sbyte Scales[16];

    /// <summary>Super-block scale, binary16 bits.</summary>
    public ushort D;
}
