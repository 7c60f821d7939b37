using Cairn.Engine.Kernels.Reference;
using Cairn.Engine.Tensors;

namespace Cairn.Engine.Kernels;

/// <summary>
/// Raw GGUF elements to f32 (embedding rows, tests). One implementation for every machine (the reference): it runs
/// once per token per embedding row, not in the matrix products.
/// </summary>
public static class Dequantize
{
    public static void Row(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst) => ReferenceDequantize.Row(type, src, dst);
}
