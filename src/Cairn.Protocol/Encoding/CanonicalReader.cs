using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Validation;

namespace Cairn.Protocol.Encoding;

/// <summary>
/// Reads what <see cref="CanonicalWriter"/> writes, from untrusted bytes. Every length and count is checked against
/// the field's bound and against the bytes that remain before anything is allocated; every failure is a
/// <see cref="CanonicalFormatException"/> whose message names the field, the value and the allowed range.
/// Call <see cref="End"/> last: trailing bytes are an error, not padding.
/// </summary>
public ref struct CanonicalReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly string _message;
    private int _position;

    public CanonicalReader(ReadOnlySpan<byte> data, string message)
    {
        _data = data;
        _message = message;
        _position = 0;
    }

    public readonly int Position => _position;

    public readonly int Remaining => _data.Length - _position;

    /// <summary>The bytes read so far (the signed body, when called before reading the signature).</summary>
    public readonly ReadOnlySpan<byte> Consumed => _data[.._position];

    public void ReadDomain(string expectedTag, byte expectedVersion)
    {
        int length = ReadU8("domain tag length");
        if (length != expectedTag.Length || Remaining < length || !Matches(_data.Slice(_position, length), expectedTag))
        {
            string seen = Remaining >= length ? Printable(_data.Slice(_position, length)) : "(truncated)";
            Fail(ProtocolErrors.WrongDomain, $"domain tag is \"{seen}\", expected \"{expectedTag}\"");
        }
        _position += length;
        byte version = ReadU8("version");
        if (version != expectedVersion) Fail(ProtocolErrors.UnsupportedVersion, $"version {version} is not supported (this build reads {expectedVersion})");
    }

    public byte ReadU8(string field) => Take(1, field)[0];

    public uint ReadU32(string field) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, field));

    public ulong ReadU64(string field) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, field));

    public float ReadF32(string field) => BitConverter.UInt32BitsToSingle(ReadU32(field));

    /// <summary>A u32 that must fit the range 0..<paramref name="max"/>.</summary>
    public int ReadInt(string field, int max = int.MaxValue)
    {
        uint value = ReadU32(field);
        if (value > (uint)max) Fail(ProtocolErrors.LengthOutOfRange, $"{field} is {value}; the maximum is {max}");
        return (int)value;
    }

    /// <summary>A list count, bounded by <paramref name="max"/> and by the bytes left for elements of <paramref name="elementSize"/>.</summary>
    public int ReadCount(string field, int max, int elementSize)
    {
        uint count = ReadU32(field + " count");
        if (count > (uint)max) Fail(ProtocolErrors.LengthOutOfRange, $"{field} count is {count}; the maximum is {max}");
        if ((long)count * elementSize > Remaining) Fail(ProtocolErrors.Truncated, $"{field} count is {count} ({(long)count * elementSize} bytes) but only {Remaining} bytes remain");
        return (int)count;
    }

    public Hash256 ReadHash(string field) => new(Take(Hash256.Size, field));

    public Address ReadAddress(string field) => new(Take(Address.Size, field));

    public Signature ReadSignature(string field) => new(Take(Signature.Size, field));

    public ReadOnlySpan<byte> ReadBytes(string field, int maxLength)
    {
        int length = ReadCount(field, maxLength, 1);
        return Take(length, field);
    }

    public string ReadString(string field, int maxBytes)
    {
        var bytes = ReadBytes(field, maxBytes);
        try
        {
            return new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (System.Text.DecoderFallbackException)
        {
            Fail(ProtocolErrors.Malformed, $"{field} is not valid UTF-8");
            return null;
        }
    }

    public readonly void End()
    {
        if (Remaining != 0) Fail(ProtocolErrors.TrailingBytes, $"{Remaining} bytes follow the end of the message at offset {_position}");
    }

    [DoesNotReturn]
    public readonly void Fail(string code, string detail) => throw new CanonicalFormatException(code, $"{_message}: {detail}");

    private ReadOnlySpan<byte> Take(int count, string field)
    {
        if (Remaining < count) Fail(ProtocolErrors.Truncated, $"{field} needs {count} bytes at offset {_position} but only {Remaining} remain");
        var span = _data.Slice(_position, count);
        _position += count;
        return span;
    }

    private static bool Matches(ReadOnlySpan<byte> bytes, string tag)
    {
        for (int i = 0; i < tag.Length; i++)
        {
            if (bytes[i] != tag[i]) return false;
        }
        return true;
    }

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = bytes[i] is >= 0x20 and < 0x7f ? (char)bytes[i] : '?';
        return new string(chars);
    }
}
