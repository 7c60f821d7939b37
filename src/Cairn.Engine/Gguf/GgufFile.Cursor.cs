using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Text;

namespace Cairn.Engine.Gguf;

public sealed unsafe partial class GgufFile
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    /// <summary>
    /// Bounds-checked reader over the mapped header. Nothing is allocated for a count or length until the bytes it
    /// claims are known to be present; arrays whose elements vary in size grow as elements are read.
    /// </summary>
    private ref struct Cursor(string path, byte* start, long length)
    {
        private long _pos;
        public readonly long Position => _pos;
        public readonly long Remaining => length - _pos;

        [DoesNotReturn]
        public readonly void Fail(string message) => throw new GgufFormatException($"{path}: {message}");

        private byte* Take(long n, string field)
        {
            if (n < 0 || n > length - _pos) Fail($"truncated while reading {field}: need {n} bytes at offset {_pos}, {length - _pos} remain");
            byte* p = start + _pos;
            _pos += n;
            return p;
        }

        public uint U32(string field) => BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(Take(4, field), 4));
        public ulong U64(string field) => BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(Take(8, field), 8));

        public string String(string field, int maxLength) => String(field, -1, maxLength);

        /// <summary>A string; <paramref name="index"/> ≥ 0 names it "element index of field" (formatted only on failure).</summary>
        public string String(string field, int index, int maxLength)
        {
            long at = _pos;
            if (Remaining < 8) Fail($"truncated while reading the length of {Name(field, index)}: need 8 bytes at offset {at}, {Remaining} remain");
            ulong len = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(start + _pos, 8));
            _pos += 8;
            if (len > (ulong)maxLength || len > (ulong)Remaining)
                Fail($"length of {Name(field, index)} is {len} at offset {at} (at most {Math.Min(maxLength, Remaining)} allowed here)");
            byte* p = start + _pos;
            _pos += (long)len;
            try
            {
                return StrictUtf8.GetString(p, (int)len);
            }
            catch (DecoderFallbackException)
            {
                Fail($"{Name(field, index)} at offset {at} is not valid UTF-8");
                return null;
            }
        }

        private static string Name(string field, int index) => index < 0 ? field : $"element {index} of {field}";

        /// <summary>A metadata key: 1 to 65535 bytes of printable ASCII (the spec requires ASCII).</summary>
        public string Key(string field)
        {
            long at = _pos;
            string key = String(field, MaxKeyLength);
            if (key.Length == 0) Fail($"{field} at offset {at} is empty");
            foreach (char c in key)
                if (c is < ' ' or > '~') Fail($"{field} at offset {at} contains character U+{(int)c:X4}; keys must be printable ASCII");
            return key;
        }

        public GgufValue Value(string key, GgufValueType type, int depth)
        {
            string f = $"value of '{key}'";
            switch (type)
            {
                case GgufValueType.UInt8: return new(type, *Take(1, f));
                case GgufValueType.Int8: return new(type, (sbyte)*Take(1, f));
                case GgufValueType.UInt16: return new(type, BinaryPrimitives.ReadUInt16LittleEndian(new ReadOnlySpan<byte>(Take(2, f), 2)));
                case GgufValueType.Int16: return new(type, BinaryPrimitives.ReadInt16LittleEndian(new ReadOnlySpan<byte>(Take(2, f), 2)));
                case GgufValueType.UInt32: return new(type, U32(f));
                case GgufValueType.Int32: return new(type, (int)U32(f));
                case GgufValueType.Float32: return new(type, BitConverter.UInt32BitsToSingle(U32(f)));
                case GgufValueType.Bool:
                    {
                        byte b = *Take(1, f);
                        if (b > 1) Fail($"bool {f} is {b} (0 or 1 allowed)");
                        return new(type, b == 1);
                    }
                case GgufValueType.String: return new(type, String(f, MaxStringLength));
                case GgufValueType.UInt64: return new(type, U64(f));
                case GgufValueType.Int64: return new(type, (long)U64(f));
                case GgufValueType.Float64: return new(type, BitConverter.UInt64BitsToDouble(U64(f)));
                case GgufValueType.Array: return Array(key, depth);
                default: Fail($"value_type of '{key}' is {(uint)type} (0 to 12 allowed)"); return null;
            }
        }

        private GgufValue Array(string key, int depth)
        {
            if (depth >= MaxNesting) Fail($"'{key}' nests arrays deeper than {MaxNesting} levels");
            var et = (GgufValueType)U32($"element type of array '{key}'");
            ulong count = U64($"element count of array '{key}'");
            long minSize = MinEncodedSize(et, key);
            if (count > MaxArrayLength || count > (ulong)(Remaining / minSize))
                Fail($"element count of array '{key}' is {count} elements of {et} at offset {_pos - 8} " +
                    $"(at most {Math.Min(MaxArrayLength, Remaining / minSize)} allowed here: {Remaining} bytes remain)");
            int n = (int)count;
            string f = $"elements of array '{key}'";
            object value = et switch
            {
                GgufValueType.UInt8 => Copy<byte>(n, f),
                GgufValueType.Int8 => Copy<sbyte>(n, f),
                GgufValueType.Bool => Bools(n, f),
                GgufValueType.UInt16 => Copy<ushort>(n, f),
                GgufValueType.Int16 => Copy<short>(n, f),
                GgufValueType.UInt32 => Copy<uint>(n, f),
                GgufValueType.Int32 => Copy<int>(n, f),
                GgufValueType.Float32 => Copy<float>(n, f),
                GgufValueType.UInt64 => Copy<ulong>(n, f),
                GgufValueType.Int64 => Copy<long>(n, f),
                GgufValueType.Float64 => Copy<double>(n, f),
                GgufValueType.String => Strings(n, key),
                _ => Arrays(n, key, depth),
            };
            return new GgufValue(GgufValueType.Array, value, et);
        }

        private readonly long MinEncodedSize(GgufValueType et, string key)
        {
            switch (et)
            {
                case GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool: return 1;
                case GgufValueType.UInt16 or GgufValueType.Int16: return 2;
                case GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32: return 4;
                case GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 or GgufValueType.String: return 8;
                case GgufValueType.Array: return 12;
                default: Fail($"element type of array '{key}' is {(uint)et} (0 to 12 allowed)"); return 0;
            }
        }

        private bool[] Bools(int n, string field)
        {
            byte* p = Take(n, field);
            var a = new bool[n];
            for (int i = 0; i < n; i++)
            {
                if (p[i] > 1) Fail($"bool element {i} of {field} is {p[i]} (0 or 1 allowed)");
                a[i] = p[i] == 1;
            }
            return a;
        }

        private string[] Strings(int n, string key)
        {
            // Each string is read (its bytes known present) before the list grows for it.
            var list = new List<string>(Math.Min(n, InitialCapacity));
            string field = $"array '{key}'";
            for (int i = 0; i < n; i++) list.Add(String(field, i, MaxStringLength));
            return list.ToArray();
        }

        private GgufValue[] Arrays(int n, string key, int depth)
        {
            var list = new List<GgufValue>(Math.Min(n, InitialCapacity));
            for (int i = 0; i < n; i++) list.Add(Array(key, depth + 1));
            return list.ToArray();
        }

        private T[] Copy<T>(int n, string field) where T : unmanaged
        {
            long bytes = (long)n * sizeof(T);
            byte* p = Take(bytes, field);
            var a = new T[n];
            new ReadOnlySpan<byte>(p, checked((int)bytes)).CopyTo(MemoryMarshal.AsBytes(a.AsSpan()));
            return a; // little-endian host assumed (x64, arm64)
        }
    }
}
