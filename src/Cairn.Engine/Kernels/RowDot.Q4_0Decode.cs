using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Cairn.Engine.Kernels.Blocks;

namespace Cairn.Engine.Kernels;

public static partial class RowDot
{
    /// <summary>Decode: rows [0, n) of <paramref name="rows"/> against one activation; returns how many rows it wrote
    /// (the caller computes the rest one by one).</summary>
    private static int Q4_0Rows(ReadOnlySpan<byte> rows, int rowCount, int rowBytes, int blocks, ReadOnlySpan<sbyte> xq,
                                ReadOnlySpan<float> xScales, Span<float> y)
    {
        return 0;
    }
}
