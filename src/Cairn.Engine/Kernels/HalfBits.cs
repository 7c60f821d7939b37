using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Cairn.Engine.Kernels;

/// <summary>
/// Exact conversions of 16-bit float formats to f32, written out in bit operations so the result (NaN payloads
/// included) never depends on the runtime's or the processor's conversion instruction. F16 NaNs become quiet
/// NaNs with the payload shifted up (what <c>(float)Half</c> and <c>vcvtph2ps</c> produce).
/// </summary>
internal static class HalfBits
{
    /// <summary>2^112 as f32 bits: rescales an f16 exponent field that sits in an f32's bit positions.</summary>
    internal const uint TwoPow112Bits = (127 + 112) << 23;

    /// <summary><see cref="F16ToSingle"/> of every f16 bit pattern (256 KiB): the kernels' per-block scale conversion is one load.</summary>
    private static readonly float[] F16Table = BuildF16Table();

    private static float[] BuildF16Table()
    {
        var table = new float[65536];
        for (int h = 0; h < table.Length; h++) table[h] = F16ToSingle((ushort)h);
        return table;
    }

    /// <summary>
    /// The table's first element. Kernels take it once, outside their loops, and pass it to <see cref="F16At"/>: a
    /// static field read inside a loop can cost a class-initialization check and spill every register around it.
    /// </summary>
    internal static ref float F16Table0 => ref MemoryMarshal.GetArrayDataReference(F16Table);

    /// <summary><see cref="F16ToSingle"/> of the little-endian f16 at <paramref name="at"/>, by table (the same bits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float F16At(ref float table0, ref byte at) => Unsafe.Add(ref table0, Unsafe.ReadUnaligned<ushort>(ref at));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float F16ToSingle(ushort h)
    {
        uint sign = (uint)(h & 0x8000) << 16;
        uint em = (uint)(h & 0x7FFF);
        if (em >= 0x7C00)
        {
            uint mant = em & 0x3FF;
            return BitConverter.UInt32BitsToSingle(sign | 0x7F800000u | (mant << 13) | (mant != 0 ? 0x400000u : 0u));
        }

        // Normal and subnormal halves alike: the shifted bits read as f32 are the value times 2^-112, exactly.
        float magnitude = BitConverter.UInt32BitsToSingle(em << 13) * BitConverter.UInt32BitsToSingle(TwoPow112Bits);
        return BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(magnitude) | sign);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Bf16ToSingle(ushort b) => BitConverter.UInt32BitsToSingle((uint)b << 16);
}
