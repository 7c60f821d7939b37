using System.Buffers.Binary;
using Cairn.Engine.Tensors;

namespace Cairn.Engine.Gguf;

/// <summary>Header, metadata and tensor-table parsing; every check names the file, the field, the value and the allowed range.</summary>
public sealed partial class GgufFile
{
    private const int HeaderSize = 24;
    // Smallest possible entries: a kv is 8 (key length) + 1 (key) + 4 (type) + 1 (u8 value);
    // a tensor info is 8 (name length) + 4 (n_dims) + 8 (one dimension) + 4 (type) + 8 (offset).
    private const int MinKvBytes = 14;
    private const int MinTensorInfoBytes = 32;
    // Collections start at most this large and grow only as entries are actually read.
    private const int InitialCapacity = 256;

    private static (uint Version, ulong TensorCount, ulong KvCount) ReadHeader(ref Cursor r)
    {
        uint magic = r.U32("magic");
        if (magic != Magic) r.Fail($"not a GGUF file: magic is 0x{magic:X8}, expected 0x{Magic:X8} (\"GGUF\")");
        uint version = r.U32("version");
        if (version is not (2 or 3))
        {
            if (BinaryPrimitives.ReverseEndianness(version) is 2 or 3)
                r.Fail($"version field is {version}: this is a big-endian GGUF file, only little-endian files are supported");
            r.Fail($"version {version} is not supported (2 and 3 are; version 1 used 32-bit counts and is obsolete)");
        }
        ulong tensorCount = r.U64("tensor_count");
        ulong kvCount = r.U64("metadata_kv_count");
        ulong remaining = (ulong)r.Remaining;
        if (kvCount > remaining / MinKvBytes)
            r.Fail($"metadata_kv_count {kvCount} cannot fit in the {remaining} bytes that remain (at most {remaining / MinKvBytes})");
        if (tensorCount > (remaining - kvCount * MinKvBytes) / MinTensorInfoBytes)
            r.Fail($"tensor_count {tensorCount} cannot fit, with {kvCount} metadata entries, in the {remaining} bytes that remain");
        return (version, tensorCount, kvCount);
    }

    private static (Dictionary<string, GgufValue>, List<string>) ReadMetadata(ref Cursor r, ulong kvCount)
    {
        int capacity = (int)Math.Min(kvCount, InitialCapacity);
        var metadata = new Dictionary<string, GgufValue>(capacity, StringComparer.Ordinal);
        var keys = new List<string>(capacity);
        for (ulong i = 0; i < kvCount; i++)
        {
            long at = r.Position;
            string key = r.Key($"metadata key {i}");
            var type = (GgufValueType)r.U32($"value_type of '{key}'");
            GgufValue value = r.Value(key, type, 0);
            if (!metadata.TryAdd(key, value)) r.Fail($"metadata key '{key}' (entry {i}, offset {at}) appears twice");
            keys.Add(key);
        }
        return (metadata, keys);
    }

    private static uint CheckAlignment(string path, GgufValue value)
    {
        long? a = value.AsInteger();
        if (value.Type != GgufValueType.UInt32 || a is null or < 8 or > MaxAlignment || (a & (a - 1)) != 0)
            throw new GgufFormatException($"{path}: general.alignment is {value} of type {value.Type} " +
                $"(allowed: a u32 power of two from 8 to {MaxAlignment})");
        return (uint)a.Value;
    }

    private static List<(string Name, long[] Dims, GgmlType Type, ulong Offset)> ReadTensorInfos(ref Cursor r, ulong tensorCount)
    {
        var raw = new List<(string, long[], GgmlType, ulong)>((int)Math.Min(tensorCount, InitialCapacity));
        var seen = new HashSet<string>((int)Math.Min(tensorCount, InitialCapacity), StringComparer.Ordinal);
        for (ulong i = 0; i < tensorCount; i++)
        {
            string name = r.String($"name of tensor {i}", MaxNameLength);
            if (!seen.Add(name)) r.Fail($"tensor name '{name}' (tensor {i}) appears twice in the tensor table");
            uint nDims = r.U32($"n_dims of tensor '{name}'");
            if (nDims is 0 or > MaxDimensions) r.Fail($"n_dims of tensor '{name}' is {nDims} (1 to {MaxDimensions} allowed)");
            var dims = new long[nDims];
            for (int d = 0; d < dims.Length; d++)
            {
                ulong dim = r.U64($"dimension {d} of tensor '{name}'");
                if (dim is 0 or > MaxDimension) r.Fail($"dimension {d} of tensor '{name}' is {dim} (1 to {MaxDimension} allowed)");
                dims[d] = (long)dim;
            }
            uint typeRaw = r.U32($"ggml type of tensor '{name}'");
            var type = (GgmlType)typeRaw;
            if (!GgmlTypeInfo.IsKnown(type))
                r.Fail(Enum.IsDefined(type)
                    ? $"ggml type of tensor '{name}' is {type} ({typeRaw}), which this reader has no block layout for"
                    : $"ggml type of tensor '{name}' is {typeRaw}, not a known ggml type");
            ulong offset = r.U64($"offset of tensor '{name}'");
            raw.Add((name, dims, type, offset));
        }
        return raw;
    }

    private List<GgufTensorInfo> PlaceTensors(List<(string Name, long[] Dims, GgmlType Type, ulong Offset)> raw)
    {
        if (raw.Count > 0 && DataOffset > Length)
            throw new GgufFormatException($"{Path}: truncated: tensor data would start at byte {DataOffset} (after padding to {Alignment}), the file has {Length}");
        long dataBytes = Length - DataOffset;
        var tensors = new List<GgufTensorInfo>(raw.Count);
        foreach (var (name, dims, type, offset) in raw)
        {
            long size = TensorByteSize(name, dims, type);
            if (offset % Alignment != 0)
                throw new GgufFormatException($"{Path}: offset of tensor '{name}' is {offset}, not a multiple of the alignment {Alignment}");
            if (offset > (ulong)dataBytes || size > dataBytes - (long)offset)
                throw new GgufFormatException($"{Path}: tensor '{name}' data ({size} bytes at data offset {offset}) runs past the end of the file " +
                    $"({dataBytes} data bytes from byte {DataOffset})");
            var t = new GgufTensorInfo(name, dims, type, (long)offset, size);
            tensors.Add(t);
            _tensorsByName.Add(name, t);
        }
        CheckNoOverlap(tensors);
        return tensors;
    }

    /// <summary>Two tensors sharing bytes is corruption or tampering (llama.cpp requires them back to back, in table order).</summary>
    private void CheckNoOverlap(List<GgufTensorInfo> tensors)
    {
        var byOffset = tensors.ToArray();
        Array.Sort(byOffset, static (a, b) => a.Offset.CompareTo(b.Offset));
        for (int i = 1; i < byOffset.Length; i++)
        {
            var (prev, t) = (byOffset[i - 1], byOffset[i]);
            if (t.Offset < prev.Offset + prev.ByteSize)
                throw new GgufFormatException($"{Path}: tensor '{t.Name}' data [{t.Offset}, {t.Offset + t.ByteSize}) overlaps tensor '{prev.Name}' " +
                    $"data [{prev.Offset}, {prev.Offset + prev.ByteSize}) (data offsets)");
        }
    }

    private static long AlignUp(long x, uint alignment) => (x + alignment - 1) / alignment * alignment;

    private long TensorByteSize(string name, long[] dims, GgmlType type)
    {
        GgmlTypeInfo.TryGetLayout(type, out int blockSize, out int blockBytes);
        if (dims[0] % blockSize != 0)
            throw new GgufFormatException($"{Path}: row length (dimension 0) of tensor '{name}' is {dims[0]}, not a multiple of the {type} block size {blockSize}");
        // Each dimension is ≤ 2^31 and there are at most 4: the product fits an Int128 without overflow.
        Int128 count = 1;
        foreach (long d in dims) count *= d;
        Int128 bytes = count / blockSize * blockBytes;
        if (bytes > Length)
            throw new GgufFormatException($"{Path}: shape [{string.Join(", ", dims)}] of tensor '{name}' needs {bytes} bytes of {type}, more than the whole file ({Length} bytes)");
        return (long)bytes;
    }
}
