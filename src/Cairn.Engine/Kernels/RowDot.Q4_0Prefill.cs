using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Cairn.Engine.Kernels.Blocks;

namespace Cairn.Engine.Kernels;

public static partial class RowDot
{
    /// <summary>Prefill: rows × tokens; returns how many rows it wrote (the caller computes the rest row by row).</summary>
    private static int Q4_0RowsTokens(ReadOnlySpan<byte> rows, int rowCount, int rowBytes, int blocks, int tokens,
                                      ReadOnlySpan<sbyte> xq, ReadOnlySpan<float> xScales, Span<float> y, int yStride)
    {
        return 0;
    }
}
