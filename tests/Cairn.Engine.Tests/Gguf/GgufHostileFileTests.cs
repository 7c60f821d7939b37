using System.Runtime.CompilerServices;
using System.Text;
using Cairn.Engine.Gguf;
using Cairn.Engine.Tensors;
using Cairn.Engine.Tests.TestSupport;

namespace Cairn.Engine.Tests.Gguf;

/// <summary>
/// One test per limit of <see cref="GgufFile"/>: each builds a file that breaks it and checks the reader refuses it with
/// a <see cref="GgufFormatException"/> whose message names the file and the field.
/// </summary>
public sealed class GgufHostileFileTests : IDisposable
{
    private const GgufValueType Str = GgufValueType.String;
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-gguf-hostile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Save(byte[] bytes, string name)
    {
        string path = Path.Combine(_dir, name + ".gguf");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Writes the bytes, opens them, and checks the refusal names the path and <paramref name="field"/>.</summary>
    private GgufFormatException Refused(byte[] bytes, string field, [CallerMemberName] string test = "")
    {
        string path = Save(bytes, test);
        var e = Assert.Throws<GgufFormatException>(() => GgufFile.Open(path));
        Assert.True(e.Message.Contains(path, StringComparison.Ordinal), $"message does not name the file: {e.Message}");
        Assert.True(e.Message.Contains(field, StringComparison.Ordinal), $"message does not name '{field}': {e.Message}");
        return e;
    }

    private static RawGguf OneKv(GgufValueType type, string key = "k") => new RawGguf().Header(0, 1).Kv(key, type);

    /// <summary>A file with one tensor and its data; everything but the named part is valid.</summary>
    private static byte[] OneTensor(ulong[] dims, uint type = (uint)GgmlType.F32, ulong offset = 0, long dataBytes = 256, string name = "w") =>
        new RawGguf().Header(1, 1).KvString("general.architecture", "llama").Tensor(name, dims, type, offset).PadTo(32).Zeros(dataBytes).ToArray();

    /// <summary>Runs <paramref name="open"/> and returns the bytes this thread allocated meanwhile.</summary>
    private long AllocatedBy(Action open)
    {
        // Warm up: JIT and static initialisation of the reader's failure path are not what is measured.
        string warm = Save(new RawGguf().Header(0, 1).Kv("k", GgufValueType.Bool).U8(9).ToArray(), "warm-up");
        Assert.Throws<GgufFormatException>(() => GgufFile.Open(warm));
        long before = GC.GetAllocatedBytesForCurrentThread();
        open();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    // ---------------------------------------------------------------- header

    [Fact]
    public void Empty_file_is_refused() => Refused([], "empty file");

    [Fact]
    public void File_shorter_than_the_header_is_refused() => Refused("GGUF\x03\0\0\0"u8.ToArray(), "truncated header");

    public static TheoryData<int> TruncationLengths()
    {
        var data = new TheoryData<int>();
        for (int n = 0; n < TruncationSource.Value.Length; n++) data.Add(n);
        return data;
    }

    /// <summary>A valid file whose last tensor ends at the last byte, so every proper prefix is invalid.</summary>
    private static readonly Lazy<byte[]> TruncationSource = new(() =>
    {
        var nested = new GgufValue(GgufValueType.Array, new[] { new GgufValue(GgufValueType.Array, new[] { 1, 2 }, GgufValueType.Int32) }, GgufValueType.Array);
        var stream = new MemoryStream();
        new GgufWriter()
            .Set("general.architecture", "llama").Set("a.u32", 7u).Set("a.f32", 1.5f).Set("a.bool", true).Set("a.u64", 9UL)
            .Set("a.strings", ["x", "yz"]).Set("a.ints", [1, 2, 3]).Set("a.nested", nested)
            .AddTensor("q", GgmlType.Q8_0, [32, 2], new byte[68])
            .AddTensor("v", GgmlType.F32, [8], new byte[32])
            .Write(stream);
        return stream.ToArray();
    });

    [Fact]
    public void Truncation_source_is_valid_and_ends_with_tensor_data()
    {
        using var f = GgufFile.Open(Save(TruncationSource.Value, "source"));
        var last = f.GetTensor("v");
        Assert.Equal(f.Length, f.DataOffset + last.Offset + last.ByteSize);
    }

    [Theory]
    [MemberData(nameof(TruncationLengths))]
    public void File_truncated_anywhere_is_refused(int length)
    {
        string path = Save(TruncationSource.Value[..length], $"truncated-{length}");
        var e = Assert.Throws<GgufFormatException>(() => GgufFile.Open(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_magic_is_refused() => Refused(new RawGguf().Header(0, 0, magic: 0x4C4D4747 /* "GGML" */).ToArray(), "magic");

    [Theory]
    [InlineData(0u)]
    [InlineData(1u)]
    [InlineData(4u)]
    [InlineData(uint.MaxValue)]
    public void Unsupported_version_is_refused(uint version) => Refused(new RawGguf().Header(0, 0, version).ToArray(), $"version {version}");

    [Fact]
    public void Version_2_is_read_like_version_3()
    {
        using var f = GgufFile.Open(Save(new RawGguf().Header(0, 1, version: 2).KvString("general.architecture", "llama").ToArray(), "v2"));
        Assert.Equal(2u, f.Version);
        Assert.Equal("llama", f.GetString("general.architecture"));
    }

    [Fact]
    public void Big_endian_file_is_refused_with_a_hint() => Refused(new RawGguf().Header(0, 0, version: 0x03000000).ToArray(), "big-endian");

    [Fact]
    public void Huge_tensor_count_fails_fast_without_allocating()
    {
        byte[] bytes = new RawGguf().Header(1UL << 60, 0).Zeros(64).ToArray();
        long allocated = AllocatedBy(() => Refused(bytes, "tensor_count"));
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Huge_metadata_kv_count_fails_fast_without_allocating()
    {
        byte[] bytes = new RawGguf().Header(0, 1UL << 60).Zeros(64).ToArray();
        long allocated = AllocatedBy(() => Refused(bytes, "metadata_kv_count"));
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Plausible_but_false_counts_do_not_preallocate()
    {
        // 4 MiB of zeros: the counts fit the bytes, but the first entry is already malformed (an empty key).
        const int size = 4 << 20;
        byte[] bytes = new RawGguf().Header(0, size / 14).Zeros(size).ToArray();
        long allocated = AllocatedBy(() => Refused(bytes, "metadata key 0 at offset 24 is empty"));
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Plausible_but_false_tensor_count_does_not_preallocate()
    {
        // 4 MiB of zeros after the header: the tensor_count fits the bytes, the first tensor has n_dims 0.
        const int size = 4 << 20;
        byte[] bytes = new RawGguf().Header(size / 32, 0).Zeros(size).ToArray();
        long allocated = AllocatedBy(() => Refused(bytes, "n_dims of tensor '' is 0"));
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Plausible_but_false_array_count_does_not_preallocate()
    {
        const int size = 4 << 20;
        byte[] bytes = OneKv(GgufValueType.Array).ArrayHeader(Str, size / 8).Str("a").U64(ulong.MaxValue).Zeros(size).ToArray();
        long allocated = AllocatedBy(() => Refused(bytes, "length of element 1 of array 'k'"));
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes");
    }

    // ---------------------------------------------------------------- metadata

    [Fact]
    public void Huge_key_length_is_refused() => Refused(new RawGguf().Header(0, 1).U64(1UL << 62).Zeros(64).ToArray(), "length of metadata key 0");

    [Fact]
    public void Key_longer_than_the_spec_allows_is_refused() =>
        Refused(new RawGguf().Header(0, 1).Str(new string('k', 65536)).U32((uint)GgufValueType.UInt8).U8(0).ToArray(), "length of metadata key 0");

    [Fact]
    public void Huge_string_value_length_is_refused() => Refused(OneKv(Str).U64(1UL << 40).Zeros(64).ToArray(), "length of value of 'k'");

    [Fact]
    public void String_value_longer_than_the_rest_of_the_file_is_refused() => Refused(OneKv(Str).U64(100).Zeros(99).ToArray(), "length of value of 'k'");

    [Fact]
    public void Huge_array_count_is_refused() =>
        Refused(OneKv(GgufValueType.Array).ArrayHeader(GgufValueType.UInt8, 1UL << 60).Zeros(64).ToArray(), "element count of array 'k'");

    [Theory]
    [InlineData(13u)]
    [InlineData(0xFFFFFFFFu)]
    public void Unknown_value_type_is_refused(uint type) =>
        Refused(new RawGguf().Header(0, 1).Str("k").U32(type).Zeros(16).ToArray(), $"value_type of 'k' is {type}");

    [Fact]
    public void Unknown_array_element_type_is_refused() =>
        Refused(OneKv(GgufValueType.Array).U32(13).U64(0).ToArray(), "element type of array 'k' is 13");

    private static byte[] NestedArrays(int depth)
    {
        var raw = OneKv(GgufValueType.Array);
        for (int i = 1; i < depth; i++) raw.ArrayHeader(GgufValueType.Array, 1);
        return raw.ArrayHeader(GgufValueType.UInt8, 1).U8(42).ToArray();
    }

    [Fact]
    public void Nesting_up_to_the_limit_is_read()
    {
        using var f = GgufFile.Open(Save(NestedArrays(GgufFile.MaxNesting), "nested-ok"));
        var v = f.Metadata["k"];
        for (int i = 1; i < GgufFile.MaxNesting; i++) v = ((GgufValue[])v.Value)[0];
        Assert.Equal(new byte[] { 42 }, (byte[])v.Value);
    }

    [Fact]
    public void Nesting_too_deep_is_refused() => Refused(NestedArrays(GgufFile.MaxNesting + 1), "'k' nests arrays deeper");

    [Fact]
    public void Bool_other_than_0_or_1_is_refused() => Refused(OneKv(GgufValueType.Bool).U8(2).ToArray(), "bool value of 'k' is 2");

    [Fact]
    public void Bool_array_element_other_than_0_or_1_is_refused() =>
        Refused(OneKv(GgufValueType.Array).ArrayHeader(GgufValueType.Bool, 3).U8(1).U8(0).U8(255).ToArray(), "bool element 2 of elements of array 'k' is 255");

    [Fact]
    public void Invalid_utf8_key_is_refused() =>
        Refused(new RawGguf().Header(0, 1).Str([0x61, 0xFF, 0xFE]).U32((uint)GgufValueType.UInt8).U8(0).ToArray(), "metadata key 0 at offset 24 is not valid UTF-8");

    [Fact]
    public void Non_ascii_key_is_refused() =>
        Refused(new RawGguf().Header(0, 1).Kv("général", GgufValueType.UInt8).U8(0).ToArray(), "metadata key 0 at offset 24 contains character U+00E9");

    [Fact]
    public void Empty_key_is_refused() => Refused(new RawGguf().Header(0, 1).Kv("", GgufValueType.UInt8).U8(0).Zeros(16).ToArray(), "metadata key 0 at offset 24 is empty");

    [Fact]
    public void Invalid_utf8_string_value_is_refused() => Refused(OneKv(Str).Str([0xC3]).ToArray(), "value of 'k' at offset");

    [Fact]
    public void Invalid_utf8_in_string_array_is_refused() =>
        Refused(OneKv(GgufValueType.Array).ArrayHeader(Str, 2).Str("ok").Str([0xED, 0xA0, 0x80]).ToArray(), "element 1 of array 'k'");

    [Fact]
    public void Duplicate_metadata_key_is_refused() =>
        Refused(new RawGguf().Header(0, 2).KvU32("a.b", 1).KvU32("a.b", 2).ToArray(), "metadata key 'a.b' (entry 1, offset");

    [Fact]
    public void Integer_array_with_values_beyond_int_is_refused_by_the_typed_getter()
    {
        string path = Save(OneKv(GgufValueType.Array).ArrayHeader(GgufValueType.UInt64, 2).U64(1).U64(ulong.MaxValue).ToArray(), "u64-array");
        using var f = GgufFile.Open(path);
        var e = Assert.Throws<GgufFormatException>(() => f.TryGetIntArray("k"));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("element 1 of 'k' is 18446744073709551615", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unsigned_32_bit_array_is_not_read_as_signed()
    {
        // The CLR lets a uint[] pass as an int[]: 0x80000000 must be refused, not returned as int.MinValue.
        string path = Save(OneKv(GgufValueType.Array).ArrayHeader(GgufValueType.UInt32, 1).U32(0x80000000).ToArray(), "u32-array");
        using var f = GgufFile.Open(path);
        var e = Assert.Throws<GgufFormatException>(() => f.TryGetIntArray("k"));
        Assert.Contains("element 0 of 'k' is 2147483648", e.Message, StringComparison.Ordinal);
        Assert.Throws<GgufFormatException>(() => f.TryGetArray<int>("k"));
        Assert.Equal([0x80000000u], f.TryGetArray<uint>("k")!);
    }

    // ---------------------------------------------------------------- alignment

    [Theory]
    [InlineData(0u)]
    [InlineData(1u)]
    [InlineData(4u)]   // a power of two, but the spec requires a multiple of 8
    [InlineData(24u)]  // a multiple of 8, not a power of two
    [InlineData(3u)]
    [InlineData(1u << 21)]
    public void Bad_alignment_value_is_refused(uint alignment) =>
        Refused(new RawGguf().Header(0, 1).KvU32("general.alignment", alignment).ToArray(), $"general.alignment is {alignment}");

    [Fact]
    public void Alignment_of_the_wrong_type_is_refused() =>
        Refused(new RawGguf().Header(0, 1).Kv("general.alignment", GgufValueType.UInt64).U64(64).ToArray(), "general.alignment is 64 of type UInt64");

    [Fact]
    public void Alignment_as_a_string_is_refused() =>
        Refused(new RawGguf().Header(0, 1).KvString("general.alignment", "32").ToArray(), "general.alignment is 32 of type String");

    // ---------------------------------------------------------------- tensor table

    [Fact]
    public void Well_formed_one_tensor_file_is_read()
    {
        using var f = GgufFile.Open(Save(OneTensor([32, 2]), "one-tensor"));
        Assert.Equal(256, f.GetTensor("w").ByteSize);
    }

    [Fact]
    public void Duplicate_tensor_name_is_refused() =>
        Refused(new RawGguf().Header(2, 0).Tensor("w", [8], 0, 0).Tensor("w", [8], 0, 32).PadTo(32).Zeros(64).ToArray(), "tensor name 'w' (tensor 1) appears twice");

    [Fact]
    public void Tensor_name_longer_than_64_bytes_is_refused() => Refused(OneTensor([8], name: new string('n', 65)), "length of name of tensor 0 is 65");

    [Fact]
    public void Invalid_utf8_tensor_name_is_refused() =>
        Refused(new RawGguf().Header(1, 0).Str([0x80]).U32(1).U64(8).U32(0).U64(0).PadTo(32).Zeros(32).ToArray(), "name of tensor 0 at offset");

    [Theory]
    [InlineData(0u)]
    [InlineData(5u)]
    [InlineData(uint.MaxValue)]
    public void Tensor_with_bad_n_dims_is_refused(uint nDims) =>
        Refused(new RawGguf().Header(1, 0).Str("w").U32(nDims).Zeros(64).ToArray(), $"n_dims of tensor 'w' is {nDims}");

    [Fact]
    public void Dimension_0_is_refused() => Refused(OneTensor([32, 0]), "dimension 1 of tensor 'w' is 0");

    [Fact]
    public void Dimension_beyond_2_pow_31_is_refused() => Refused(OneTensor([1UL << 31]), "dimension 0 of tensor 'w' is 2147483648");

    [Fact]
    public void Dimension_product_overflowing_is_refused()
    {
        const ulong max = int.MaxValue;
        Refused(OneTensor([max, max, max, max]), "shape [2147483647, 2147483647, 2147483647, 2147483647] of tensor 'w'");
    }

    [Theory]
    [InlineData(4u)]    // Q4_2: support removed from ggml
    [InlineData(31u)]   // Q4_0_4_4: removed from GGUF files
    [InlineData(99u)]
    [InlineData(uint.MaxValue)]
    public void Unknown_ggml_type_is_refused(uint type) => Refused(OneTensor([32], type), $"ggml type of tensor 'w' is {type}, not a known ggml type");

    [Fact]
    public void Ggml_type_without_a_block_layout_is_refused() =>
        Refused(OneTensor([256], (uint)GgmlType.IQ2_XXS), "ggml type of tensor 'w' is IQ2_XXS (16)");

    [Fact]
    public void Row_length_not_a_multiple_of_the_block_size_is_refused() =>
        Refused(OneTensor([33, 2], (uint)GgmlType.Q8_0), "row length (dimension 0) of tensor 'w' is 33, not a multiple of the Q8_0 block size 32");

    [Fact]
    public void Unaligned_tensor_offset_is_refused() => Refused(OneTensor([8], offset: 8), "offset of tensor 'w' is 8, not a multiple of the alignment 32");

    [Fact]
    public void Tensor_offset_past_the_end_is_refused() => Refused(OneTensor([8], offset: 1UL << 62), "tensor 'w' data (32 bytes at data offset 4611686018427387904) runs past the end");

    [Fact]
    public void Tensor_data_running_past_the_end_is_refused() => Refused(OneTensor([32, 2], dataBytes: 255), "tensor 'w' data (256 bytes at data offset 0) runs past the end");

    [Fact]
    public void Overlapping_tensors_are_refused() =>
        Refused(new RawGguf().Header(2, 0).Tensor("a", [16], 0, 0).Tensor("b", [8], 0, 32).PadTo(32).Zeros(64).ToArray(),
            "tensor 'b' data [32, 64) overlaps tensor 'a' data [0, 64)");

    [Fact]
    public void Missing_padding_before_tensor_data_is_refused() =>
        Refused(new RawGguf().Header(1, 0).Tensor("w", [1], 0, 0).ToArray(), "truncated: tensor data would start at byte");

    [Fact]
    public void File_without_tensors_may_end_without_padding()
    {
        byte[] bytes = new RawGguf().Header(0, 1).KvString("general.architecture", "llama").ToArray();
        Assert.NotEqual(0, bytes.Length % 32);
        using var f = GgufFile.Open(Save(bytes, "no-padding"));
        Assert.Empty(f.Tensors);
    }

    // ---------------------------------------------------------------- the file itself

    [Fact]
    public void Missing_file_throws_FileNotFoundException_with_the_path()
    {
        string path = Path.Combine(_dir, "absent.gguf");
        var e = Assert.Throws<FileNotFoundException>(() => GgufFile.Open(path));
        Assert.Equal(path, e.FileName);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void File_in_a_missing_directory_throws_FileNotFoundException_with_the_path()
    {
        string path = Path.Combine(_dir, "no-such-dir", "absent.gguf");
        var e = Assert.Throws<FileNotFoundException>(() => GgufFile.Open(path));
        Assert.Equal(path, e.FileName);
    }

    [Fact]
    public void Error_messages_are_plain_text()
    {
        var e = Refused(OneKv(Str).Str(Encoding.UTF8.GetBytes("ok")).ToArray()[..^1], "length of value of 'k' is 2");
        Assert.DoesNotContain('\n', e.Message);
    }
}
