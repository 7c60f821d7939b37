using System.IO.MemoryMappedFiles;
using System.Text;
using Cairn.Engine.Tensors;

namespace Cairn.Engine.Gguf;

/// <summary>
/// A memory-mapped GGUF file (versions 2 and 3).
/// <para>
/// Layout, all little-endian (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md):
/// <code>
/// u32 magic "GGUF" | u32 version | u64 tensor_count | u64 metadata_kv_count
/// metadata_kv[]:  string key | u32 value_type | value
///     string = u64 length + UTF-8 bytes (no terminator); array = u32 element_type + u64 count + elements
/// tensor_info[]:  string name | u32 n_dims (≤ 4) | u64 dims[n_dims] | u32 ggml_type | u64 offset
/// padding to general.alignment (default 32) | tensor data (each tensor at data_start + offset, offset aligned)
/// </code>
/// </para>
/// Every count, length and offset comes from a file the provider did not make: each is checked against the bytes
/// that remain before anything is allocated, and an error names the file, the field, the value and what was allowed.
/// </summary>
public sealed unsafe partial class GgufFile : IDisposable
{
    public const uint Magic = 0x46554747; // "GGUF"
    public const uint DefaultAlignment = 32;
    public const int MaxDimensions = 4;
    public const int MaxKeyLength = 1 << 16;
    public const int MaxNameLength = 1 << 12;
    public const int MaxNesting = 4;

    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private byte* _base;
    private readonly Dictionary<string, GgufTensorInfo> _tensorsByName;

    public string Path { get; }
    public uint Version { get; }
    public long Length { get; }
    public uint Alignment { get; }
    public long DataOffset { get; }
    public IReadOnlyDictionary<string, GgufValue> Metadata { get; }
    /// <summary>Metadata keys in file order.</summary>
    public IReadOnlyList<string> MetadataKeys { get; }
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    private GgufFile(string path)
    {
        Path = path;
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"{path}: no such model file", path);
        Length = info.Length;
        if (Length < 24) throw new GgufFormatException($"{path}: truncated: {Length} bytes, a GGUF header alone takes 24");

        _map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        try
        {
            _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref _base);
            _base += _view.PointerOffset;

            var r = new Cursor(path, _base, Length);
            uint magic = r.U32("magic");
            if (magic != Magic) throw new GgufFormatException($"{path}: not a GGUF file (magic 0x{magic:X8}, expected 0x{Magic:X8} \"GGUF\")");
            Version = r.U32("version");
            if (Version is not (2 or 3))
                throw new GgufFormatException($"{path}: GGUF version {Version} is not supported (2 and 3 are)");
            ulong tensorCount = r.U64("tensor_count");
            ulong kvCount = r.U64("metadata_kv_count");
            // Smallest possible entries: a kv is 8 (key length) + 4 (type) + 1 (u8 value); a tensor info is 8 + 4 + 8 + 4 + 8.
            if (kvCount > (ulong)(r.Remaining / 13))
                throw new GgufFormatException($"{path}: metadata_kv_count {kvCount} cannot fit in the {r.Remaining} bytes that remain");
            if (tensorCount > (ulong)(r.Remaining / 32))
                throw new GgufFormatException($"{path}: tensor_count {tensorCount} cannot fit in the {r.Remaining} bytes that remain");

            var metadata = new Dictionary<string, GgufValue>((int)kvCount, StringComparer.Ordinal);
            var keys = new List<string>((int)kvCount);
            for (ulong i = 0; i < kvCount; i++)
            {
                string key = r.String("metadata key", MaxKeyLength);
                var type = (GgufValueType)r.U32($"type of '{key}'");
                GgufValue value = r.Value(key, type, 0);
                if (!metadata.TryAdd(key, value))
                    throw new GgufFormatException($"{path}: metadata key '{key}' appears twice");
                keys.Add(key);
            }
            Metadata = metadata;
            MetadataKeys = keys;

            Alignment = DefaultAlignment;
            if (metadata.TryGetValue("general.alignment", out var alignValue))
            {
                long? a = alignValue.AsInteger();
                if (alignValue.Type != GgufValueType.UInt32 || a is null or 0 or > 1 << 20 || (a & (a - 1)) != 0)
                    throw new GgufFormatException($"{path}: general.alignment {alignValue} is invalid (a power of two up to 2^20, type u32)");
                Alignment = (uint)a.Value;
            }

            var raw = new List<(string Name, long[] Dims, GgmlType Type, ulong Offset)>((int)tensorCount);
            _tensorsByName = new Dictionary<string, GgufTensorInfo>((int)tensorCount, StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (ulong i = 0; i < tensorCount; i++)
            {
                string name = r.String($"name of tensor {i}", MaxNameLength);
                if (!seen.Add(name)) throw new GgufFormatException($"{path}: tensor '{name}' appears twice in the tensor table");
                uint nDims = r.U32($"n_dims of tensor '{name}'");
                if (nDims is 0 or > MaxDimensions)
                    throw new GgufFormatException($"{path}: tensor '{name}' has {nDims} dimensions (1 to {MaxDimensions} allowed)");
                var dims = new long[nDims];
                for (int d = 0; d < nDims; d++)
                {
                    ulong dim = r.U64($"dimension {d} of tensor '{name}'");
                    if (dim is 0 or > int.MaxValue)
                        throw new GgufFormatException($"{path}: tensor '{name}' dimension {d} is {dim} (1 to {int.MaxValue} allowed)");
                    dims[d] = (long)dim;
                }
                uint typeRaw = r.U32($"type of tensor '{name}'");
                var type = (GgmlType)typeRaw;
                if (!GgmlTypeInfo.IsKnown(type))
                    throw new GgufFormatException($"{path}: tensor '{name}' has unknown ggml type {typeRaw}");
                ulong offset = r.U64($"offset of tensor '{name}'");
                raw.Add((name, dims, type, offset));
            }

            long headerEnd = r.Position;
            DataOffset = AlignUp(headerEnd, Alignment);
            if (DataOffset > Length)
                throw new GgufFormatException($"{path}: truncated: tensor data would start at byte {DataOffset}, the file has {Length}");

            var tensors = new List<GgufTensorInfo>(raw.Count);
            foreach (var (name, dims, type, offset) in raw)
            {
                TensorByteSize(path, name, dims, type, out long size);
                if (offset % Alignment != 0)
                    throw new GgufFormatException($"{path}: tensor '{name}' offset {offset} is not a multiple of the alignment {Alignment}");
                if (offset > (ulong)(Length - DataOffset) || size > Length - DataOffset - (long)offset)
                    throw new GgufFormatException($"{path}: tensor '{name}' ({size} bytes at data offset {offset}) runs past the end of the file ({Length - DataOffset} data bytes)");
                var t = new GgufTensorInfo(name, dims, type, (long)offset, size);
                tensors.Add(t);
                _tensorsByName.Add(name, t);
            }
            Tensors = tensors;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Opens and validates a GGUF file. Throws <see cref="GgufFormatException"/> for anything malformed.</summary>
    public static GgufFile Open(string path) => new(path);

    private static long AlignUp(long x, uint alignment) => (x + alignment - 1) / alignment * alignment;

    private static void TensorByteSize(string path, string name, long[] dims, GgmlType type, out long size)
    {
        GgmlTypeInfo.TryGetLayout(type, out int blockSize, out int blockBytes);
        if (dims[0] % blockSize != 0)
            throw new GgufFormatException($"{path}: tensor '{name}' row length {dims[0]} is not a multiple of the {type} block size {blockSize}");
        // Each dimension is ≤ 2^31; check the running product against a bound that keeps every product in range.
        Int128 count = 1;
        foreach (long d in dims) count *= d;
        Int128 bytes = count / blockSize * blockBytes;
        if (bytes > long.MaxValue / 2)
            throw new GgufFormatException($"{path}: tensor '{name}' shape [{string.Join(", ", dims)}] is absurdly large");
        size = (long)bytes;
    }

    public bool TryGetTensor(string name, out GgufTensorInfo tensor) => _tensorsByName.TryGetValue(name, out tensor!);

    /// <summary>The tensor, or an error naming the file and the tensor.</summary>
    public GgufTensorInfo GetTensor(string name) =>
        _tensorsByName.TryGetValue(name, out var t) ? t : throw new GgufFormatException($"{Path}: required tensor '{name}' is missing");

    /// <summary>Pointer to the first byte of a tensor's data, valid while this file is open.</summary>
    public byte* TensorData(GgufTensorInfo tensor)
    {
        ObjectDisposedException.ThrowIf(_base == null, this);
        return _base + DataOffset + tensor.Offset;
    }

    /// <summary>The tensor's bytes as a span (tensors over 2 GiB must be read by rows through <see cref="TensorData"/>).</summary>
    public ReadOnlySpan<byte> TensorBytes(GgufTensorInfo tensor)
    {
        if (tensor.ByteSize > int.MaxValue) throw new InvalidOperationException($"tensor '{tensor.Name}' is larger than 2 GiB; read it by rows");
        return new ReadOnlySpan<byte>(TensorData(tensor), (int)tensor.ByteSize);
    }

    public void Dispose()
    {
        if (_base != null)
        {
            _view!.SafeMemoryMappedViewHandle.ReleasePointer();
            _base = null;
        }
        _view?.Dispose();
        _map?.Dispose();
    }

    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    /// <summary>Bounds-checked reader over the mapped header.</summary>
    private ref struct Cursor(string path, byte* start, long length)
    {
        private long _pos;
        public readonly long Position => _pos;
        public readonly long Remaining => length - _pos;

        private byte* Take(long n, string field)
        {
            if (n < 0 || n > length - _pos)
                throw new GgufFormatException($"{path}: truncated while reading {field}: need {n} bytes at offset {_pos}, {length - _pos} remain");
            byte* p = start + _pos;
            _pos += n;
            return p;
        }

        public uint U32(string field) => System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(Take(4, field), 4));
        public ulong U64(string field) => System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(Take(8, field), 8));

        public string String(string field, long maxLength)
        {
            ulong len = U64($"length of {field}");
            if (len > (ulong)maxLength || len > (ulong)Remaining)
                throw new GgufFormatException($"{path}: {field} has length {len} at offset {_pos - 8} (at most {Math.Min(maxLength, Remaining)} allowed here)");
            byte* p = Take((long)len, field);
            try
            {
                return StrictUtf8.GetString(p, (int)len);
            }
            catch (DecoderFallbackException)
            {
                throw new GgufFormatException($"{path}: {field} at offset {_pos - (long)len} is not valid UTF-8");
            }
        }

        public GgufValue Value(string key, GgufValueType type, int depth)
        {
            string f = $"value of '{key}'";
            switch (type)
            {
                case GgufValueType.UInt8: return new(type, *Take(1, f));
                case GgufValueType.Int8: return new(type, (sbyte)*Take(1, f));
                case GgufValueType.UInt16: { byte* p = Take(2, f); return new(type, (ushort)(p[0] | p[1] << 8)); }
                case GgufValueType.Int16: { byte* p = Take(2, f); return new(type, (short)(p[0] | p[1] << 8)); }
                case GgufValueType.UInt32: return new(type, U32(f));
                case GgufValueType.Int32: return new(type, (int)U32(f));
                case GgufValueType.Float32: return new(type, BitConverter.UInt32BitsToSingle(U32(f)));
                case GgufValueType.Bool:
                {
                    byte b = *Take(1, f);
                    if (b > 1) throw new GgufFormatException($"{path}: bool {f} is {b} (0 or 1 allowed)");
                    return new(type, b == 1);
                }
                case GgufValueType.String: return new(type, String(f, int.MaxValue));
                case GgufValueType.UInt64: return new(type, U64(f));
                case GgufValueType.Int64: return new(type, (long)U64(f));
                case GgufValueType.Float64: return new(type, BitConverter.UInt64BitsToDouble(U64(f)));
                case GgufValueType.Array: return Array(key, depth);
                default: throw new GgufFormatException($"{path}: '{key}' has unknown value type {(uint)type} (0 to 12 allowed)");
            }
        }

        private GgufValue Array(string key, int depth)
        {
            if (depth >= MaxNesting) throw new GgufFormatException($"{path}: '{key}' nests arrays deeper than {MaxNesting}");
            var et = (GgufValueType)U32($"element type of '{key}'");
            ulong count = U64($"element count of '{key}'");
            long minSize = et switch
            {
                GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
                GgufValueType.UInt16 or GgufValueType.Int16 => 2,
                GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
                GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 or GgufValueType.String => 8,
                GgufValueType.Array => 12,
                _ => throw new GgufFormatException($"{path}: array '{key}' has unknown element type {(uint)et} (0 to 12 allowed)"),
            };
            if (count > (ulong)(Remaining / minSize))
                throw new GgufFormatException($"{path}: array '{key}' claims {count} elements of {et}; only {Remaining} bytes remain");
            int n = (int)count;
            string f = $"element of '{key}'";
            object value;
            switch (et)
            {
                case GgufValueType.UInt8: value = new ReadOnlySpan<byte>(Take(n, f), n).ToArray(); break;
                case GgufValueType.Int8: value = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(new ReadOnlySpan<byte>(Take(n, f), n)).ToArray(); break;
                case GgufValueType.Bool:
                {
                    var a = new bool[n];
                    byte* p = Take(n, f);
                    for (int i = 0; i < n; i++)
                    {
                        if (p[i] > 1) throw new GgufFormatException($"{path}: bool element {i} of '{key}' is {p[i]} (0 or 1 allowed)");
                        a[i] = p[i] == 1;
                    }
                    value = a;
                    break;
                }
                case GgufValueType.UInt16: value = Copy<ushort>(n, f); break;
                case GgufValueType.Int16: value = Copy<short>(n, f); break;
                case GgufValueType.UInt32: value = Copy<uint>(n, f); break;
                case GgufValueType.Int32: value = Copy<int>(n, f); break;
                case GgufValueType.Float32: value = Copy<float>(n, f); break;
                case GgufValueType.UInt64: value = Copy<ulong>(n, f); break;
                case GgufValueType.Int64: value = Copy<long>(n, f); break;
                case GgufValueType.Float64: value = Copy<double>(n, f); break;
                case GgufValueType.String:
                {
                    var a = new string[n];
                    for (int i = 0; i < n; i++) a[i] = String($"element {i} of '{key}'", int.MaxValue);
                    value = a;
                    break;
                }
                default:
                {
                    var a = new GgufValue[n];
                    for (int i = 0; i < n; i++) a[i] = Array(key, depth + 1);
                    value = a;
                    break;
                }
            }
            return new GgufValue(GgufValueType.Array, value, et);
        }

        private T[] Copy<T>(int n, string field) where T : unmanaged
        {
            long bytes = (long)n * sizeof(T);
            byte* p = Take(bytes, field);
            var a = new T[n];
            new ReadOnlySpan<byte>(p, (int)bytes).CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()));
            return a; // little-endian host assumed (x64, arm64)
        }
    }
}
