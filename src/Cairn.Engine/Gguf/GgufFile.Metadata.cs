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
        return v.Value as T[] ?? throw WrongType(key, v, $"an array of {typeof(T).Name}");
    }

    /// <summary>An integer array of any element width, widened to int (values must fit).</summary>
    public int[]? TryGetIntArray(string key)
    {
        if (!Metadata.TryGetValue(key, out var v)) return null;
        if (v.Value is int[] i) return i;
        if (v.Value is Array a && v.IsArray && v.ElementType is not (GgufValueType.String or GgufValueType.Array or GgufValueType.Float32 or GgufValueType.Float64 or GgufValueType.Bool))
        {
            var result = new int[a.Length];
            for (int k = 0; k < a.Length; k++)
            {
                long x = Convert.ToInt64(a.GetValue(k), System.Globalization.CultureInfo.InvariantCulture);
                if (x is < int.MinValue or > int.MaxValue) throw new GgufFormatException($"{Path}: element {k} of '{key}' is {x}, out of the int range");
                result[k] = (int)x;
            }
            return result;
        }
        throw WrongType(key, v, "an integer array");
    }

    private GgufFormatException Missing(string key, string what) => new($"{Path}: required metadata '{key}' is missing (expected {what})");

    private GgufFormatException WrongType(string key, GgufValue v, string what) =>
        new($"{Path}: metadata '{key}' is {(v.IsArray ? $"an array of {v.ElementType}" : v.Type.ToString())}, expected {what}");
}
