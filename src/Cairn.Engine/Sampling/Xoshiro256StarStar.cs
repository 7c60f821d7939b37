using System.Numerics;

namespace Cairn.Engine.Sampling;

/// <summary>
/// xoshiro256** (Blackman, Vigna 2018), seeded by four SplitMix64 outputs (DESIGN.md §3 rule 6). One 64-bit draw
/// per sampled token; <see cref="NextUnitFloat"/> maps it to <c>u = (draw >> 40) · 2⁻²⁴</c>, a float in [0, 1).
/// </summary>
public struct Xoshiro256StarStar
{
    private ulong _s0, _s1, _s2, _s3;

    public Xoshiro256StarStar(ulong seed)
    {
        var sm = new SplitMix64(seed);
        _s0 = sm.Next();
        _s1 = sm.Next();
        _s2 = sm.Next();
        _s3 = sm.Next();
    }

    public ulong Next()
    {
        ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    public float NextUnitFloat() => (Next() >> 40) * (1f / (1 << 24));
}
