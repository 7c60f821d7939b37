using Cairn.Engine.Tensors;

namespace Cairn.Engine.Gguf;

/// <summary>One entry of the tensor table. <see cref="Dimensions"/> are in ggml order: <c>Dimensions[0]</c> is the row length (contiguous).</summary>
public sealed record GgufTensorInfo(string Name, long[] Dimensions, GgmlType Type, long Offset, long ByteSize)
{
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (long d in Dimensions) n *= d;
            return n;
        }
    }

    /// <summary>Row length (elements along the contiguous dimension).</summary>
    public long Columns => Dimensions.Length == 0 ? 1 : Dimensions[0];

    /// <summary>Number of rows (product of all dimensions but the first).</summary>
    public long Rows => Dimensions.Length == 0 ? 1 : ElementCount / Dimensions[0];

    public string ShapeText => "[" + string.Join(", ", Dimensions) + "]";
}
