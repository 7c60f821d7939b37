using System.Buffers.Binary;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;

namespace Cairn.Protocol.Encoding;

/// <summary>
/// Writes Cairn's canonical encoding (docs/protocol.md), the only bytes that are ever hashed or signed:
/// a domain tag (u8 length ‖ ASCII) and a version byte first; integers little-endian and fixed-width;
/// floats as their IEEE 754 bits (u32 LE); fixed-size values (hashes, addresses, signatures) raw;
/// byte strings and UTF-8 strings as u32 LE length ‖ bytes; lists as u32 LE count ‖ elements.
/// Each value has exactly one encoding, so equal messages hash equally.
/// </summary>
public sealed class CanonicalWriter
{
    private byte[] _buffer;
    private int _length;

    public CanonicalWriter(int capacity = 256) => _buffer = new byte[Math.Max(16, capacity)];

    public int Length => _length;

    public void WriteDomain(string tag, byte version)
    {
        if (tag.Length is 0 or > 255 || tag.AsSpan().ContainsAnyExceptInRange((char)0x21, (char)0x7e))
            throw new ArgumentException($"a domain tag is 1 to 255 printable ASCII characters; got \"{tag}\"", nameof(tag));
        WriteU8((byte)tag.Length);
        var span = Grow(tag.Length);
        for (int i = 0; i < tag.Length; i++) span[i] = (byte)tag[i];
        WriteU8(version);
    }

    public void WriteU8(byte value) => Grow(1)[0] = value;

    public void WriteU32(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Grow(4), value);

    public void WriteU64(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Grow(8), value);

    /// <summary>A non-negative int as u32; negative values are a caller bug.</summary>
    public void WriteCount(int value, string field)
    {
        if (value < 0) throw new ArgumentOutOfRangeException(field, value, $"{field} must not be negative");
        WriteU32((uint)value);
    }

    /// <summary>The float's IEEE 754 bit pattern, so -0, NaN payloads and subnormals survive exactly.</summary>
    public void WriteF32(float value) => WriteU32(BitConverter.SingleToUInt32Bits(value));

    public void WriteFixed(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Grow(bytes.Length));

    public void WriteHash(Hash256 hash) => hash.CopyTo(Grow(Hash256.Size));

    public void WriteAddress(Address address) => address.CopyTo(Grow(Address.Size));

    public void WriteSignature(Signature signature) => signature.CopyTo(Grow(Signature.Size));

    public void WriteBytes(ReadOnlySpan<byte> bytes, int maxLength, string field)
    {
        if (bytes.Length > maxLength) throw new ArgumentException($"{field} is {bytes.Length} bytes; at most {maxLength} are allowed", field);
        WriteU32((uint)bytes.Length);
        WriteFixed(bytes);
    }

    public void WriteString(string value, int maxBytes, string field)
    {
        ArgumentNullException.ThrowIfNull(value, field);
        WriteBytes(System.Text.Encoding.UTF8.GetBytes(value), maxBytes, field);
    }

    public byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    private Span<byte> Grow(int count)
    {
        if (_length + count > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }
}
