using System.Text;
using Cairn.Engine.Gguf;

namespace Cairn.Engine.Tests.TestSupport;

/// <summary>
/// Writes GGUF bytes field by field, with no validation, so that tests can build files <see cref="GgufWriter"/>
/// would never make (wrong counts, bad types, impossible lengths).
/// </summary>
public sealed class RawGguf
{
    private readonly MemoryStream _stream = new();
    private readonly BinaryWriter _w;

    public RawGguf() => _w = new BinaryWriter(_stream, Encoding.UTF8, leaveOpen: true);

    public long Position => _stream.Position;

    public RawGguf Header(ulong tensorCount, ulong kvCount, uint version = 3, uint magic = GgufFile.Magic) =>
        U32(magic).U32(version).U64(tensorCount).U64(kvCount);

    public RawGguf U8(byte v) { _w.Write(v); return this; }
    public RawGguf U32(uint v) { _w.Write(v); return this; }
    public RawGguf U64(ulong v) { _w.Write(v); return this; }
    public RawGguf Bytes(byte[] v) { _w.Write(v); return this; }
    public RawGguf Zeros(long n) { for (long i = 0; i < n; i++) _w.Write((byte)0); return this; }

    /// <summary>A GGUF string: u64 byte length and the bytes.</summary>
    public RawGguf Str(string s) => Str(Encoding.UTF8.GetBytes(s));
    public RawGguf Str(byte[] bytes) => U64((ulong)bytes.Length).Bytes(bytes);

    /// <summary>A key and its value type; the value follows.</summary>
    public RawGguf Kv(string key, GgufValueType type) => Str(key).U32((uint)type);
    public RawGguf KvU32(string key, uint v) => Kv(key, GgufValueType.UInt32).U32(v);
    public RawGguf KvString(string key, string v) => Kv(key, GgufValueType.String).Str(v);

    /// <summary>Array header: element type and count; the elements follow.</summary>
    public RawGguf ArrayHeader(GgufValueType elementType, ulong count) => U32((uint)elementType).U64(count);

    public RawGguf Tensor(string name, ulong[] dims, uint ggmlType, ulong offset)
    {
        Str(name).U32((uint)dims.Length);
        foreach (ulong d in dims) U64(d);
        return U32(ggmlType).U64(offset);
    }

    public RawGguf PadTo(int alignment) => Zeros((alignment - Position % alignment) % alignment);

    public byte[] ToArray()
    {
        _w.Flush();
        return _stream.ToArray();
    }
}
