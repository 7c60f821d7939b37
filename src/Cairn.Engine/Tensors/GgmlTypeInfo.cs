namespace Cairn.Engine.Tensors;

/// <summary>Block layout of each <see cref="GgmlType"/>: how many elements a block holds and how many bytes it takes.</summary>
public static class GgmlTypeInfo
{
    /// <summary>Types the engine can compute with.</summary>
    public static bool IsSupported(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16
        or GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q4_K or GgmlType.Q6_K;

    /// <summary>Whether the type is known to the format (its block layout is known), supported or not.</summary>
    public static bool IsKnown(GgmlType type) => TryGetLayout(type, out _, out _);

    /// <summary>Elements per block and bytes per block, as ggml defines them.</summary>
    public static bool TryGetLayout(GgmlType type, out int blockSize, out int blockBytes)
    {
        (blockSize, blockBytes) = type switch
        {
            GgmlType.F32 => (1, 4),
            GgmlType.F16 => (1, 2),
            GgmlType.BF16 => (1, 2),
            GgmlType.F64 => (1, 8),
            GgmlType.I8 => (1, 1),
            GgmlType.I16 => (1, 2),
            GgmlType.I32 => (1, 4),
            GgmlType.I64 => (1, 8),
            GgmlType.Q4_0 => (32, 18),
            GgmlType.Q4_1 => (32, 20),
            GgmlType.Q5_0 => (32, 22),
            GgmlType.Q5_1 => (32, 24),
            GgmlType.Q8_0 => (32, 34),
            GgmlType.Q8_1 => (32, 36),
            GgmlType.Q2_K => (256, 84),
            GgmlType.Q3_K => (256, 110),
            GgmlType.Q4_K => (256, 144),
            GgmlType.Q5_K => (256, 176),
            GgmlType.Q6_K => (256, 210),
            GgmlType.Q8_K => (256, 292),
            GgmlType.IQ4_NL => (32, 18),
            GgmlType.IQ4_XS => (256, 136),
            _ => (0, 0),
        };
        return blockSize != 0;
    }

    public static int BlockSize(GgmlType type) =>
        TryGetLayout(type, out int size, out _) ? size : throw new NotSupportedException($"ggml type {type} has no known block layout");

    public static int BlockBytes(GgmlType type) =>
        TryGetLayout(type, out _, out int bytes) ? bytes : throw new NotSupportedException($"ggml type {type} has no known block layout");

    /// <summary>Bytes taken by a row of <paramref name="elements"/> values; the count must be a whole number of blocks.</summary>
    public static long RowBytes(GgmlType type, long elements)
    {
        TryGetLayout(type, out int size, out int bytes);
        if (size == 0) throw new NotSupportedException($"ggml type {type} has no known block layout");
        if (elements % size != 0) throw new ArgumentException($"{elements} elements are not a whole number of {type} blocks of {size}");
        return elements / size * bytes;
    }
}
