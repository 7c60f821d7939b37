namespace Cairn.Engine.Gguf;

/// <summary>
/// One metadata value. Scalars are boxed primitives (<see cref="byte"/>, <see cref="sbyte"/>, … <see cref="string"/>, <see cref="bool"/>);
/// arrays of scalars are typed arrays (<c>float[]</c>, <c>string[]</c>, …) so that a 150k-entry vocabulary is three flat arrays;
/// arrays of arrays are <c>GgufValue[]</c>.
/// </summary>
public sealed record GgufValue(GgufValueType Type, object Value, GgufValueType ElementType = GgufValueType.UInt8)
{
    public bool IsArray => Type == GgufValueType.Array;

    public int ArrayLength => Value is Array a ? a.Length : throw new InvalidOperationException("not an array");

    /// <summary>Integer scalars of any width as a long; anything else is null.</summary>
    public long? AsInteger() => Value switch
    {
        byte v => v,
        sbyte v => v,
        ushort v => v,
        short v => v,
        uint v => v,
        int v => v,
        ulong v => v <= long.MaxValue ? (long)v : null,
        long v => v,
        _ => null,
    };

    /// <summary>Float or integer scalars as a double; anything else is null.</summary>
    public double? AsNumber() => Value switch
    {
        float v => v,
        double v => v,
        _ => AsInteger(),
    };

    public override string ToString() => Value switch
    {
        string s => s,
        Array a => $"[{ElementType} × {a.Length}]",
        bool b => b ? "true" : "false",
        float f => f.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        _ => Convert.ToString(Value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };
}
