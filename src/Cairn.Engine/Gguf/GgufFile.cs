using System.IO.MemoryMappedFiles;

namespace Cairn.Engine.Gguf;

/// <summary>
/// A memory-mapped GGUF file, versions 2 and 3, little-endian (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md).
/// <para>
/// Layout (v2 and v3 are identical for little-endian files; v3 only allows big-endian writers, which we refuse;
/// v1 used 32-bit counts and lengths and is refused):
/// <code>
/// u32 magic "GGUF" (bytes 47 47 55 46) | u32 version | u64 tensor_count | u64 metadata_kv_count
/// metadata_kv[]:  string key | u32 value_type | value
///     string = u64 length + UTF-8 bytes (no terminator)
///     array  = u32 element_type + u64 count + count values of that type (arrays may nest: each element of an
///              array of arrays is again u32 element_type + u64 count + values)
///     key: printable ASCII, 1 to 65535 bytes; bool: one byte, 0 or 1 (anything else is invalid)
/// tensor_info[]:  string name (≤ 64 bytes) | u32 n_dims (1..4) | u64 dims[n_dims] | u32 ggml_type | u64 offset
/// padding to ALIGNMENT | tensor_data (each tensor at data_start + offset; offset a multiple of ALIGNMENT)
/// ALIGNMENT = general.alignment (u32, a multiple of 8; we also require a power of two ≤ 2^20), default 32
/// </code>
/// </para>
/// Every count, length and offset comes from a file the provider did not make: each is checked against the bytes
/// that remain before anything is allocated, collections grow only as entries are actually read, and an error names
/// the file, the field, the value and what was allowed. A file with no tensors may end without the final padding.
/// </summary>
public sealed unsafe partial class GgufFile : IDisposable
{
    public const uint Magic = 0x46554747; // "GGUF"
    public const uint DefaultAlignment = 32;
    public const uint MaxAlignment = 1 << 20;
    public const int MaxDimensions = 4;
    /// <summary>Keys are at most 2^16 - 1 bytes (spec).</summary>
    public const int MaxKeyLength = ushort.MaxValue;
    /// <summary>Tensor names are at most 64 bytes (spec).</summary>
    public const int MaxNameLength = 64;
    /// <summary>Cairn's bound on a string value (chat templates are tens of KiB).</summary>
    public const int MaxStringLength = 1 << 26;
    /// <summary>Cairn's bound on an array's element count (vocabularies are a few hundred thousand).</summary>
    public const int MaxArrayLength = 1 << 26;
    public const int MaxNesting = 4;
    /// <summary>Largest dimension of a tensor.</summary>
    public const long MaxDimension = int.MaxValue;

    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private byte* _base;
    private readonly Dictionary<string, GgufTensorInfo> _tensorsByName = new(StringComparer.Ordinal);

    public string Path { get; }
    public uint Version { get; }
    public long Length { get; }
    public uint Alignment { get; } = DefaultAlignment;
    /// <summary>Start of tensor data. For a file without tensors this may equal or exceed <see cref="Length"/>.</summary>
    public long DataOffset { get; }
    public IReadOnlyDictionary<string, GgufValue> Metadata { get; }
    /// <summary>Metadata keys in file order.</summary>
    public IReadOnlyList<string> MetadataKeys { get; }
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    private GgufFile(string path)
    {
        Path = path;
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"{path}: no such model file", path, e);
        }
        try
        {
            // The length is taken from the open handle, the same one the map is made from; the map then owns the stream.
            if (!stream.CanSeek) throw new GgufFormatException($"{path}: not a regular file (a pipe or device cannot be mapped)");
            Length = stream.Length;
            if (Length < HeaderSize)
                throw new GgufFormatException(Length == 0
                    ? $"{path}: empty file (0 bytes); a GGUF header takes {HeaderSize}"
                    : $"{path}: truncated header: {Length} bytes, the magic, version, tensor_count and metadata_kv_count take {HeaderSize}");
            _map = MemoryMappedFile.CreateFromFile(stream, null, Length, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
        try
        {
            _view = _map.CreateViewAccessor(0, Length, MemoryMappedFileAccess.Read);
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref _base);
            _base += _view.PointerOffset;

            var r = new Cursor(path, _base, Length);
            var (version, tensorCount, kvCount) = ReadHeader(ref r);
            Version = version;
            var (metadata, keys) = ReadMetadata(ref r, kvCount);
            Metadata = metadata;
            MetadataKeys = keys;
            if (metadata.TryGetValue("general.alignment", out var alignment)) Alignment = CheckAlignment(path, alignment);
            var raw = ReadTensorInfos(ref r, tensorCount);
            DataOffset = AlignUp(r.Position, Alignment);
            Tensors = PlaceTensors(raw);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens and validates a GGUF file. Throws <see cref="GgufFormatException"/> for anything malformed and
    /// <see cref="FileNotFoundException"/> when there is no file at <paramref name="path"/>.
    /// </summary>
    public static GgufFile Open(string path) => new(path);

    public bool TryGetTensor(string name, out GgufTensorInfo tensor) => _tensorsByName.TryGetValue(name, out tensor!);

    /// <summary>The tensor, or an error naming the file and the tensor.</summary>
    public GgufTensorInfo GetTensor(string name) =>
        _tensorsByName.TryGetValue(name, out var t) ? t : throw new GgufFormatException($"{Path}: required tensor '{name}' is missing");

    /// <summary>
    /// Pointer to the first byte of a tensor's data, valid until this file is disposed. Throws
    /// <see cref="ObjectDisposedException"/> after <see cref="Dispose"/>, and <see cref="ArgumentException"/> for a
    /// tensor whose bytes do not lie inside this file's data section.
    /// </summary>
    public byte* TensorData(GgufTensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ObjectDisposedException.ThrowIf(_base == null, this);
        long dataBytes = Length - DataOffset;
        if (tensor.Offset < 0 || tensor.ByteSize < 0 || tensor.Offset > dataBytes || tensor.ByteSize > dataBytes - tensor.Offset)
            throw new ArgumentException($"{Path}: tensor '{tensor.Name}' ({tensor.ByteSize} bytes at data offset {tensor.Offset}) is not inside this file", nameof(tensor));
        return _base + DataOffset + tensor.Offset;
    }

    /// <summary>The tensor's bytes as a span (tensors over 2 GiB must be read by rows through <see cref="TensorData"/>).</summary>
    public ReadOnlySpan<byte> TensorBytes(GgufTensorInfo tensor)
    {
        byte* p = TensorData(tensor);
        if (tensor.ByteSize > int.MaxValue) throw new InvalidOperationException($"{Path}: tensor '{tensor.Name}' is larger than 2 GiB; read it by rows");
        return new ReadOnlySpan<byte>(p, (int)tensor.ByteSize);
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
}
