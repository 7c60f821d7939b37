namespace Cairn.Engine.Gguf;

/// <summary>Typed access to metadata with errors that name the file, the key and what was expected.</summary>
public sealed partial class GgufFile
{
    public bool Has(string key) => Metadata.ContainsKey(key);

    public string GetString(string key) => TryGetString(key) ?? throw Missing(key, "a string");

    public string? TryGetString(string key)
    {
        if (!Metadata.TryGetValue(key, out var v)) return null;
        return v.Value as string ?? throw WrongType(key, v, "a string");
    }

    public long GetInteger(string key) => TryGetInteger(key) ?? throw Missing(key, "an integer");

    public long? TryGetInteger(string key)
    {
        if (!Metadata.TryGetValue(key, out var v)) return null;
        return v.AsInteger() ?? throw WrongType(key, v, "an integer");
    }

    /// <summary>An integer that must lie in [min, max].</summary>
    public int GetInt32(string key, int min, int max, int? fallback = null)
    {
        long? v = TryGetInteger(key);
        if (v is null) return fallback ?? throw Missing(key, $"an integer in [{min}, {max}]");
        if (v < min || v > max) throw new GgufFormatException($"{Path}: '{key}' is {v} (allowed {min} to {max})");
        return (int)v.Value;
    }

    public double? TryGetNumber(string key)
    {
        if (!Metadata.TryGetValue(key, out var v)) return null;
        return v.AsNumber() ?? throw WrongType(key, v, "a number");
    }

    public bool? TryGetBool(string key)
    {
        if (!Metadata.TryGetValue(key, out var v)) return null;
        return v.Value as bool? ?? throw WrongType(key, v, "a bool");
    }

    /// <summary>A typed array (<c>string[]</c>, <c>float[]</c>, <c>int[]</c>, …) or null when absent.</summary>
    public T[]? TryGetArray<T>(string key)
    {
        if (!Metadata.TryGetValue(key, out var v)) return null;
        // Exact type only: the CLR would let a uint[] pass as an int[] (and ulong[] as long[]).
        return v.Value.GetType() == typeof(T[]) ? (T[])v.Value : throw WrongType(key, v, $"an array of {typeof(T).Name}");
    }

    /// <summary>An integer array of any element width, widened to int (values must fit).</summary>
    public int[]? TryGetIntArray(string key)
    {
        if (!Metadata.TryGetValue(key, out var v)) return null;
        // Switch on the declared element type, not the runtime array type: the CLR lets a uint[] pass as an int[]
        // (and ulong[] as long[], byte[] as sbyte[]), which would reinterpret large values as negative ones.
        if (!v.IsArray) throw WrongType(key, v, "an integer array");
        return v.ElementType switch
        {
            GgufValueType.Int32 => (int[])v.Value,
            GgufValueType.UInt8 => Widen(key, (byte[])v.Value, x => x),
            GgufValueType.Int8 => Widen(key, (sbyte[])v.Value, x => x),
            GgufValueType.UInt16 => Widen(key, (ushort[])v.Value, x => x),
            GgufValueType.Int16 => Widen(key, (short[])v.Value, x => x),
            GgufValueType.UInt32 => Widen(key, (uint[])v.Value, x => x),
            GgufValueType.Int64 => Widen(key, (long[])v.Value, x => x),
            // Clamped so that values above long.MaxValue cannot overflow; the error message shows the real value.
            GgufValueType.UInt64 => Widen(key, (ulong[])v.Value, x => x > int.MaxValue ? long.MaxValue : (long)x),
            _ => throw WrongType(key, v, "an integer array"),
        };
    }

    private int[] Widen<T>(string key, T[] source, Func<T, long> toLong)
    {
        var result = new int[source.Length];
        for (int k = 0; k < source.Length; k++)
        {
            long x = toLong(source[k]);
            if (x is < int.MinValue or > int.MaxValue)
                throw new GgufFormatException($"{Path}: element {k} of '{key}' is {source[k]}, out of the int range");
            result[k] = (int)x;
        }
        return result;
    }

    private GgufFormatException Missing(string key, string what) => new($"{Path}: required metadata '{key}' is missing (expected {what})");

    private GgufFormatException WrongType(string key, GgufValue v, string what) =>
        new($"{Path}: metadata '{key}' is {(v.IsArray ? $"an array of {v.ElementType}" : v.Type.ToString())}, expected {what}");
}
