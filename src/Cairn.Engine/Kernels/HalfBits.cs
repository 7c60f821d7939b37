using System.Runtime.CompilerServices;

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
