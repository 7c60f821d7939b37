using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Cairn.Engine.Kernels.Reference;
using R = Cairn.Engine.Kernels.Reference.ReferenceDetMath;

namespace Cairn.Engine.Kernels;

/// <summary>
/// Deterministic transcendental functions (DESIGN.md §3 rule 4). The f32 forms follow <see cref="ReferenceDetMath"/>;
/// the span forms run the very same operations lane by lane in 512-, 256- or 128-bit vectors, so their bits equal
/// the scalar ones.
/// </summary>
public static partial class DetMath
{
    public static float Exp(float x) => R.Exp(x);

    public static float Silu(float x) => R.Silu(x);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Exp(ReadOnlySpan<float> x, Span<float> y)
    {
        KernelGuard.SameLength(x.Length, y.Length, nameof(x), nameof(y));
        int n = x.Length, i = 0;
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        if (KernelOptions.UseVector512)
        {
            for (; i <= n - 16; i += 16) Exp512(Vector512.LoadUnsafe(ref rx, (nuint)i)).StoreUnsafe(ref ry, (nuint)i);
        }
        else if (KernelOptions.UseVector256)
        {
            for (; i <= n - 8; i += 8) Exp256(Vector256.LoadUnsafe(ref rx, (nuint)i)).StoreUnsafe(ref ry, (nuint)i);
        }
        else if (KernelOptions.UseVector128)
        {
            for (; i <= n - 4; i += 4) Exp128(Vector128.LoadUnsafe(ref rx, (nuint)i)).StoreUnsafe(ref ry, (nuint)i);
        }

        for (; i < n; i++) Unsafe.Add(ref ry, i) = R.Exp(Unsafe.Add(ref rx, i));
    }

    /// <summary>gate[i] = Silu(gate[i]) * up[i].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SiluMul(Span<float> gate, ReadOnlySpan<float> up)
    {
        KernelGuard.SameLength(gate.Length, up.Length, nameof(gate), nameof(up));
        int n = gate.Length, i = 0;
        ref float rg = ref MemoryMarshal.GetReference(gate);
        ref float ru = ref MemoryMarshal.GetReference(up);
        if (KernelOptions.UseVector512)
        {
            for (; i <= n - 16; i += 16)
            {
                Vector512<float> g = Vector512.LoadUnsafe(ref rg, (nuint)i);
                Vector512<float> silu = g / (Vector512<float>.One + Exp512(-g));
                (silu * Vector512.LoadUnsafe(ref ru, (nuint)i)).StoreUnsafe(ref rg, (nuint)i);
            }
        }
        else if (KernelOptions.UseVector256)
        {
            for (; i <= n - 8; i += 8)
            {
                Vector256<float> g = Vector256.LoadUnsafe(ref rg, (nuint)i);
                Vector256<float> silu = g / (Vector256<float>.One + Exp256(-g));
                (silu * Vector256.LoadUnsafe(ref ru, (nuint)i)).StoreUnsafe(ref rg, (nuint)i);
            }
        }
        else if (KernelOptions.UseVector128)
        {
            for (; i <= n - 4; i += 4)
            {
                Vector128<float> g = Vector128.LoadUnsafe(ref rg, (nuint)i);
                Vector128<float> silu = g / (Vector128<float>.One + Exp128(-g));
                (silu * Vector128.LoadUnsafe(ref ru, (nuint)i)).StoreUnsafe(ref rg, (nuint)i);
            }
        }

        for (; i < n; i++) Unsafe.Add(ref rg, i) = R.Silu(Unsafe.Add(ref rg, i)) * Unsafe.Add(ref ru, i);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Exp512(Vector512<float> x)
    {
        Vector512<float> k = Vector512.Round(x * Vector512.Create(R.Log2E));
        Vector512<float> r = Vector512.FusedMultiplyAdd(k, Vector512.Create(-R.Ln2Hi), x);
        r = Vector512.FusedMultiplyAdd(k, Vector512.Create(-R.Ln2Lo), r);
        Vector512<float> p = Vector512.Create(R.C7);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(R.C6));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(R.C5));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(R.C4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(R.C3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(R.C2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        Vector512<float> y = (p.AsInt32() + Vector512.ShiftLeft(Vector512.ConvertToInt32(k), 23)).AsSingle();
        y = Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(R.ExpHi)), Vector512.Create(float.PositiveInfinity), y);
        y = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(R.ExpLo)), Vector512<float>.Zero, y);
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), y, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Exp256(Vector256<float> x)
    {
        Vector256<float> k = Vector256.Round(x * Vector256.Create(R.Log2E));
        Vector256<float> r = Vector256.FusedMultiplyAdd(k, Vector256.Create(-R.Ln2Hi), x);
        r = Vector256.FusedMultiplyAdd(k, Vector256.Create(-R.Ln2Lo), r);
        Vector256<float> p = Vector256.Create(R.C7);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(R.C6));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(R.C5));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(R.C4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(R.C3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(R.C2));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
        Vector256<float> y = (p.AsInt32() + Vector256.ShiftLeft(Vector256.ConvertToInt32(k), 23)).AsSingle();
        y = Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(R.ExpHi)), Vector256.Create(float.PositiveInfinity), y);
        y = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(R.ExpLo)), Vector256<float>.Zero, y);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), y, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> Exp128(Vector128<float> x)
    {
        Vector128<float> k = Vector128.Round(x * Vector128.Create(R.Log2E));
        Vector128<float> r = Vector128.FusedMultiplyAdd(k, Vector128.Create(-R.Ln2Hi), x);
        r = Vector128.FusedMultiplyAdd(k, Vector128.Create(-R.Ln2Lo), r);
        Vector128<float> p = Vector128.Create(R.C7);
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(R.C6));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(R.C5));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(R.C4));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(R.C3));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(R.C2));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128<float>.One);
        p = Vector128.FusedMultiplyAdd(p, r, Vector128<float>.One);
        Vector128<float> y = (p.AsInt32() + Vector128.ShiftLeft(Vector128.ConvertToInt32(k), 23)).AsSingle();
        y = Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128.Create(R.ExpHi)), Vector128.Create(float.PositiveInfinity), y);
        y = Vector128.ConditionalSelect(Vector128.LessThan(x, Vector128.Create(R.ExpLo)), Vector128<float>.Zero, y);
        return Vector128.ConditionalSelect(Vector128.Equals(x, x), y, x);
    }
}
