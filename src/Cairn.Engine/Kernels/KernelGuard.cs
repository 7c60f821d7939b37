using System.Diagnostics.CodeAnalysis;
using Cairn.Engine.Tensors;

namespace Cairn.Engine.Kernels;

/// <summary>Argument checks shared by the fast kernels and their references; throwing stays out of hot loops.</summary>
internal static class KernelGuard
{
    internal static void SameLength(int a, int b, string nameA, string nameB)
    {
        if (a != b) ThrowLength(nameA, a, nameB, b);
    }

    internal static void AtLeast(int actual, int required, string name)
    {
        if (actual < required) ThrowTooShort(name, actual, required);
    }

    /// <summary>Validates a <see cref="RowDot.Compute"/> call.</summary>
    internal static void RowDotArguments(GgmlType type, ReadOnlySpan<byte> row, int cols, int xLength, int xqLength,
                                         int xScalesLength, int xSumsLength)
    {
        if (!GgmlTypeInfo.IsSupported(type)) ThrowUnsupported(type);
        int blockSize = GgmlTypeInfo.BlockSize(type);
        if (cols < 0 || cols % blockSize != 0) ThrowCols(type, cols, blockSize);
        AtLeast(row.Length, (int)GgmlTypeInfo.RowBytes(type, cols), "row");
        if (RowDot.NeedsQuantizedActivation(type))
        {
            AtLeast(xqLength, cols, "xq");
            AtLeast(xScalesLength, cols / 32, "xScales");
            if (type == GgmlType.Q4_K) AtLeast(xSumsLength, cols / 32, "xSums");
        }
        else
        {
            AtLeast(xLength, cols, "x");
        }
    }

    [DoesNotReturn]
    internal static void ThrowUnsupported(GgmlType type) =>
        throw new NotSupportedException($"ggml type {type} is not supported by the kernels (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K)");

    [DoesNotReturn]
    private static void ThrowLength(string nameA, int a, string nameB, int b) =>
        throw new ArgumentException($"{nameA}.Length ({a}) must equal {nameB}.Length ({b})");

    [DoesNotReturn]
    private static void ThrowTooShort(string name, int actual, int required) =>
        throw new ArgumentException($"{name} has {actual} elements; at least {required} are required", name);

    [DoesNotReturn]
    private static void ThrowCols(GgmlType type, int cols, int blockSize) =>
        throw new ArgumentException($"cols = {cols} must be a non-negative multiple of {type}'s block size {blockSize}", nameof(cols));

    [DoesNotReturn]
    internal static void ThrowMultipleOf32(string name, int length) =>
        throw new ArgumentException($"{name}.Length = {length} must be a multiple of 32", name);
}
