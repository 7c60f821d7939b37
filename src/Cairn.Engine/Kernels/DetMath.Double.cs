namespace Cairn.Engine.Kernels;

/// <summary>
/// Double-precision Sin, Cos, Exp and Log for RoPE tables, built only from + − × ÷ and FMA so every machine gets
/// the same bits (no platform libm). Accuracy is about 1 ulp for the ranges RoPE uses (|x| up to ~1e6 for
/// Sin/Cos: angles pos * freq with pos &lt; 1e6).
/// </summary>
public static partial class DetMath
{
    // π/2 in three 33-bit parts (fdlibm's pio2_1, pio2_2, pio2_2t): k * part is exact for |k| < 2^20.
    private const double PiO2Part1 = 1.57079632673412561417e+00;
    private const double PiO2Part2 = 6.07710050630396597660e-11;
    private const double PiO2Part3 = 2.02226624879595063154e-21;
    private const double TwoOverPi = 6.36619772367581382433e-01;
    private const double Ln2HiD = 6.93147180369123816490e-01;
    private const double Ln2LoD = 1.90821492927058770002e-10;
    private const double Log2ED = 1.44269504088896338700e+00;

    /// <summary>sin x: k = RoundToEven(x * 2/π), r = x − k·π/2 (Cody–Waite, three parts, FMA); Taylor series of sin or
    /// cos on r (|r| ≤ π/4) by quadrant k mod 4. Non-finite x → NaN.</summary>
    public static double Sin(double x)
    {
        if (!double.IsFinite(x)) return double.NaN;
        double r = ReduceHalfPi(x, out long k);
        return (k & 3) switch
        {
            0 => SinKernel(r),
            1 => CosKernel(r),
            2 => -SinKernel(r),
            _ => -CosKernel(r),
        };
    }

    /// <summary>cos x, with the reduction of <see cref="Sin(double)"/>.</summary>
    public static double Cos(double x)
    {
        if (!double.IsFinite(x)) return double.NaN;
        double r = ReduceHalfPi(x, out long k);
        return (k & 3) switch
        {
            0 => CosKernel(r),
            1 => -SinKernel(r),
            2 => -CosKernel(r),
            _ => SinKernel(r),
        };
    }

    /// <summary>e^x: NaN → NaN; x &gt; 709.78 → +∞; x &lt; -708.39 → +0 (no subnormal results). k = RoundToEven(x·log2 e),
    /// r = x − k·ln2 (two parts, FMA), Taylor polynomial of degree 13 by Horner with FMA, k added to the exponent.</summary>
    public static double Exp(double x)
    {
        if (double.IsNaN(x)) return x;
        if (x > 709.78) return double.PositiveInfinity;
        if (x < -708.39) return 0d;
        double k = Math.Round(x * Log2ED, MidpointRounding.ToEven);
        double r = Math.FusedMultiplyAdd(-k, Ln2HiD, x);
        r = Math.FusedMultiplyAdd(-k, Ln2LoD, r);
        double p = 1.0 / 6227020800.0; // 1/13!
        p = Math.FusedMultiplyAdd(p, r, 1.0 / 479001600.0);
        p = Math.FusedMultiplyAdd(p, r, 1.0 / 39916800.0);
        p = Math.FusedMultiplyAdd(p, r, 1.0 / 3628800.0);
        p = Math.FusedMultiplyAdd(p, r, 1.0 / 362880.0);
        p = Math.FusedMultiplyAdd(p, r, 1.0 / 40320.0);
        p = Math.FusedMultiplyAdd(p, r, 1.0 / 5040.0);
        p = Math.FusedMultiplyAdd(p, r, 1.0 / 720.0);
        p = Math.FusedMultiplyAdd(p, r, 1.0 / 120.0);
        p = Math.FusedMultiplyAdd(p, r, 1.0 / 24.0);
        p = Math.FusedMultiplyAdd(p, r, 1.0 / 6.0);
        p = Math.FusedMultiplyAdd(p, r, 0.5);
        p = Math.FusedMultiplyAdd(p, r, 1.0);
        p = Math.FusedMultiplyAdd(p, r, 1.0);
        return BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(p) + ((long)k << 52));
    }

    /// <summary>ln x: NaN or x &lt; 0 → NaN; ±0 → −∞; +∞ → +∞. x = m·2^e with m in [√½, √2); s = (m − 1) / (m + 1);
    /// ln m = 2·atanh s by its odd series up to s^21 (Horner in s², FMA); result = e·ln2_hi + (e·ln2_lo + ln m).</summary>
    public static double Log(double x)
    {
        if (double.IsNaN(x) || x < 0) return double.NaN;
        if (x == 0) return double.NegativeInfinity;
        if (double.IsPositiveInfinity(x)) return x;
        long bits = BitConverter.DoubleToInt64Bits(x);
        int e = 0;
        if ((bits >> 52) == 0)
        {
            bits = BitConverter.DoubleToInt64Bits(x * 18014398509481984.0); // 2^54: make a subnormal normal
            e = -54;
        }

        e += (int)(bits >> 52) - 1023;
        double m = BitConverter.Int64BitsToDouble((bits & 0x000FFFFFFFFFFFFFL) | 0x3FF0000000000000L);
        if (m >= 1.4142135623730951)
        {
            m *= 0.5;
            e++;
        }

        double s = (m - 1.0) / (m + 1.0);
        double s2 = s * s;
        double t = 1.0 / 21.0;
        for (int n = 19; n >= 3; n -= 2) t = Math.FusedMultiplyAdd(t, s2, 1.0 / n);
        double lnm = 2.0 * Math.FusedMultiplyAdd(s * s2, t, s);
        return Math.FusedMultiplyAdd(e, Ln2HiD, Math.FusedMultiplyAdd(e, Ln2LoD, lnm));
    }

    private static double ReduceHalfPi(double x, out long k)
    {
        double kd = Math.Round(x * TwoOverPi, MidpointRounding.ToEven);
        double r = Math.FusedMultiplyAdd(-kd, PiO2Part1, x);
        r = Math.FusedMultiplyAdd(-kd, PiO2Part2, r);
        r = Math.FusedMultiplyAdd(-kd, PiO2Part3, r);
        k = (long)kd;
        return r;
    }

    // Taylor series to r^19 (sin) and r^20 (cos): the first omitted term is below 2^-60 for |r| ≤ π/4.
    private static double SinKernel(double r)
    {
        double r2 = r * r;
        double p = -1.0 / 121645100408832000.0; // -1/19!
        p = Math.FusedMultiplyAdd(p, r2, 1.0 / 355687428096000.0);
        p = Math.FusedMultiplyAdd(p, r2, -1.0 / 1307674368000.0);
        p = Math.FusedMultiplyAdd(p, r2, 1.0 / 6227020800.0);
        p = Math.FusedMultiplyAdd(p, r2, -1.0 / 39916800.0);
        p = Math.FusedMultiplyAdd(p, r2, 1.0 / 362880.0);
        p = Math.FusedMultiplyAdd(p, r2, -1.0 / 5040.0);
        p = Math.FusedMultiplyAdd(p, r2, 1.0 / 120.0);
        p = Math.FusedMultiplyAdd(p, r2, -1.0 / 6.0);
        return Math.FusedMultiplyAdd(r * r2, p, r);
    }

    private static double CosKernel(double r)
    {
        double r2 = r * r;
        double p = 1.0 / 2432902008176640000.0; // 1/20!
        p = Math.FusedMultiplyAdd(p, r2, -1.0 / 6402373705728000.0);
        p = Math.FusedMultiplyAdd(p, r2, 1.0 / 20922789888000.0);
        p = Math.FusedMultiplyAdd(p, r2, -1.0 / 87178291200.0);
        p = Math.FusedMultiplyAdd(p, r2, 1.0 / 479001600.0);
        p = Math.FusedMultiplyAdd(p, r2, -1.0 / 3628800.0);
        p = Math.FusedMultiplyAdd(p, r2, 1.0 / 40320.0);
        p = Math.FusedMultiplyAdd(p, r2, -1.0 / 720.0);
        p = Math.FusedMultiplyAdd(p, r2, 1.0 / 24.0);
        p = Math.FusedMultiplyAdd(p, r2, -0.5);
        return Math.FusedMultiplyAdd(r2, p, 1.0);
    }
}
