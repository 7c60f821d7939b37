using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Cairn.Engine.Kernels.Reference;

namespace Cairn.Engine.Kernels;

/// <summary>F32 dot product in the 16-lane order of <see cref="ReferenceDot"/>, bit for bit, on every machine.</summary>
public static class Dot
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float F32(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        KernelGuard.SameLength(a.Length, b.Length, nameof(a), nameof(b));
        Span<float> lanes = stackalloc float[ReferenceDot.Lanes];
        lanes.Clear();
        Accumulate(lanes, a, b);
        return Tree16(lanes);
    }

    /// <summary>
    /// <see cref="ReferenceDot.Tree16"/> in registers: the same additions of the same pairs in the same order
    /// (IEEE addition is commutative, so a + b and b + a are the same bits).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Tree16(Span<float> lanes)
    {
        ref float l0 = ref MemoryMarshal.GetReference(lanes);
        return Tree8(Vector256.LoadUnsafe(ref l0) + Vector256.LoadUnsafe(ref l0, 8)); // width 8: lane[i] + lane[i + 8]
    }

    /// <summary><see cref="ReferenceDot.Tree8"/> in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Tree8(Vector256<float> v)
    {
        Vector128<float> a = v.GetLower() + v.GetUpper();                       // width 4: lane[i] + lane[i + 4]
        Vector128<float> b = a + Vector128.Shuffle(a, Vector128.Create(2, 3, 0, 1)); // width 2: lane[i] + lane[i + 2]
        return b.ToScalar() + b.GetElement(1);                                  // width 1
    }

    /// <summary>
    /// Adds a·b into the 16 lanes, element k into lane k % 16. A dot computed in pieces must pass every piece but the
    /// last with a length that is a multiple of 16. Lengths are the caller's to check.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Accumulate(Span<float> lanes, ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int n = a.Length;
        int full = n & ~15;
        ref float l0 = ref MemoryMarshal.GetReference(lanes);
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        if (KernelOptions.UseVector512)
        {
            Vector512<float> acc = Vector512.LoadUnsafe(ref l0);
            for (nuint i = 0; i < (nuint)full; i += 16)
            {
                acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref ra, i), Vector512.LoadUnsafe(ref rb, i), acc);
            }

            acc.StoreUnsafe(ref l0);
        }
        else if (KernelOptions.UseVector256)
        {
            Vector256<float> acc0 = Vector256.LoadUnsafe(ref l0);
            Vector256<float> acc1 = Vector256.LoadUnsafe(ref l0, 8);
            for (nuint i = 0; i < (nuint)full; i += 16)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref ra, i), Vector256.LoadUnsafe(ref rb, i), acc0);
                acc1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref ra, i + 8), Vector256.LoadUnsafe(ref rb, i + 8), acc1);
            }

            acc0.StoreUnsafe(ref l0);
            acc1.StoreUnsafe(ref l0, 8);
        }
        else if (KernelOptions.UseVector128)
        {
            Vector128<float> acc0 = Vector128.LoadUnsafe(ref l0);
            Vector128<float> acc1 = Vector128.LoadUnsafe(ref l0, 4);
            Vector128<float> acc2 = Vector128.LoadUnsafe(ref l0, 8);
            Vector128<float> acc3 = Vector128.LoadUnsafe(ref l0, 12);
            for (nuint i = 0; i < (nuint)full; i += 16)
            {
                acc0 = Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref ra, i), Vector128.LoadUnsafe(ref rb, i), acc0);
                acc1 = Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref ra, i + 4), Vector128.LoadUnsafe(ref rb, i + 4), acc1);
                acc2 = Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref ra, i + 8), Vector128.LoadUnsafe(ref rb, i + 8), acc2);
                acc3 = Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref ra, i + 12), Vector128.LoadUnsafe(ref rb, i + 12), acc3);
            }

            acc0.StoreUnsafe(ref l0);
            acc1.StoreUnsafe(ref l0, 4);
            acc2.StoreUnsafe(ref l0, 8);
            acc3.StoreUnsafe(ref l0, 12);
        }
        else
        {
            full = 0;
        }

        for (int k = full; k < n; k++)
        {
            ref float lane = ref Unsafe.Add(ref l0, k & 15);
            lane = MathF.FusedMultiplyAdd(Unsafe.Add(ref ra, k), Unsafe.Add(ref rb, k), lane);
        }
    }
}
