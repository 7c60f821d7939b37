using System.Runtime.CompilerServices;
using Cairn.Engine.Kernels.Blocks;
using Cairn.Engine.Tensors;

namespace Cairn.Engine.Tests.Kernels;

public class BlockLayoutTests
{
    [Fact]
    public void Block_structs_have_ggml_sizes()
    {
        Assert.Equal(34, Unsafe.SizeOf<BlockQ8_0>());
        Assert.Equal(18, Unsafe.SizeOf<BlockQ4_0>());
        Assert.Equal(144, Unsafe.SizeOf<BlockQ4_K>());
        Assert.Equal(210, Unsafe.SizeOf<BlockQ6_K>());
    }

    [Fact]
    public void Block_constants_agree_with_the_type_table()
    {
        Assert.Equal(BlockQ8_0.Bytes, GgmlTypeInfo.BlockBytes(GgmlType.Q8_0));
        Assert.Equal(BlockQ4_0.Bytes, GgmlTypeInfo.BlockBytes(GgmlType.Q4_0));
        Assert.Equal(BlockQ4_K.Bytes, GgmlTypeInfo.BlockBytes(GgmlType.Q4_K));
        Assert.Equal(BlockQ6_K.Bytes, GgmlTypeInfo.BlockBytes(GgmlType.Q6_K));
        Assert.Equal(BlockQ4_K.Elements, GgmlTypeInfo.BlockSize(GgmlType.Q4_K));
        Assert.Equal(BlockQ6_K.Elements, GgmlTypeInfo.BlockSize(GgmlType.Q6_K));
    }

    [Fact]
    public unsafe void Q6_K_field_offsets_are_as_documented()
    {
        BlockQ6_K block = default;
        byte* start = (byte*)&block;
        Assert.Equal(BlockQ6_K.QhOffset, (int)((byte*)block.Qh - start));
        Assert.Equal(BlockQ6_K.ScalesOffset, (int)((byte*)block.Scales - start));
        Assert.Equal(BlockQ6_K.DOffset, (int)((byte*)&block.D - start));
    }
}
