namespace Cairn.Engine.Kernels;

/// <summary>Marsaglia's xorshift64 (13, 7, 17): fixed pseudo-random inputs for <see cref="KernelFingerprint"/>.</summary>
internal sealed class XorShift64(ulong seed)
{
    private ulong _state = seed == 0 ? 0x9E3779B97F4A7C15UL : seed;

    public ulong Next()
    {
        ulong s = _state;
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return _state = s;
    }

    /// <summary>A float in [-range, range), from 24 random bits (exact arithmetic).</summary>
    public float Float(float range) => ((int)(Next() >> 40) - (1 << 23)) * (range / (1 << 23));

    public float[] Floats(int n, float range)
    {
        var values = new float[n];
        for (int i = 0; i < n; i++) values[i] = Float(range);
        return values;
    }

    public void Fill(Span<byte> bytes)
    {
        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)(Next() >> 56);
    }

    /// <summary>Binary16 bits of a finite number with magnitude in [2^-10, 1), random sign.</summary>
    public ushort SaneHalfBits()
    {
        ulong r = Next();
        int exponent = 5 + (int)(r % 10);
        int mantissa = (int)((r >> 8) & 0x3FF);
        int sign = (int)((r >> 20) & 1) << 15;
        return (ushort)(sign | (exponent << 10) | mantissa);
    }
}
