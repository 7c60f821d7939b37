using System.Text;
using Cairn.Engine.Tensors;

namespace Cairn.Engine.Gguf;

/// <summary>
/// Writes GGUF v3 files (the layout is documented on <see cref="GgufFile"/>). Used by tests and tools to make
/// synthetic models of any shape and type; values are written exactly as given, in insertion order.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<(string Key, GgufValue Value)> _metadata = [];
    private readonly List<(string Name, long[] Dims, GgmlType Type, byte[] Data)> _tensors = [];

    public uint Alignment { get; set; } = GgufFile.DefaultAlignment;

    /// <summary>
    /// A writer holding <paramref name="source"/>'s metadata (in its order) and alignment, and a copy of the tensors that
    /// <paramref name="keep"/> accepts (all by default), to edit and write as another file — e.g. a model with fewer layers.
    /// </summary>
    public static GgufWriter CopyOf(GgufFile source, Func<GgufTensorInfo, bool>? keep = null)
    {
        var writer = new GgufWriter { Alignment = source.Alignment };
        foreach (string key in source.MetadataKeys) writer.Set(key, source.Metadata[key]);
        foreach (var t in source.Tensors)
        {
            if (keep?.Invoke(t) == false) continue;
            writer.AddTensor(t.Name, t.Type, t.Dimensions, source.TensorBytes(t).ToArray());
        }
        return writer;
    }

    public GgufWriter Set(string key, GgufValue value)
    {
        _metadata.RemoveAll(kv => kv.Key == key);
        _metadata.Add((key, value));
        return this;
    }

    public GgufWriter Set(string key, string value) => Set(key, new GgufValue(GgufValueType.String, value));
    public GgufWriter Set(string key, uint value) => Set(key, new GgufValue(GgufValueType.UInt32, value));
    public GgufWriter Set(string key, int value) => Set(key, new GgufValue(GgufValueType.Int32, value));
    public GgufWriter Set(string key, float value) => Set(key, new GgufValue(GgufValueType.Float32, value));
    public GgufWriter Set(string key, bool value) => Set(key, new GgufValue(GgufValueType.Bool, value));
    public GgufWriter Set(string key, ulong value) => Set(key, new GgufValue(GgufValueType.UInt64, value));
    public GgufWriter Set(string key, string[] value) => Set(key, new GgufValue(GgufValueType.Array, value, GgufValueType.String));
    public GgufWriter Set(string key, float[] value) => Set(key, new GgufValue(GgufValueType.Array, value, GgufValueType.Float32));
    public GgufWriter Set(string key, int[] value) => Set(key, new GgufValue(GgufValueType.Array, value, GgufValueType.Int32));

    /// <summary>Adds a tensor; <paramref name="dims"/> in ggml order (row length first), <paramref name="data"/> the raw bytes.</summary>
    public GgufWriter AddTensor(string name, GgmlType type, long[] dims, byte[] data)
    {
        long elements = 1;
        foreach (long d in dims) elements *= d;
        long expected = GgmlTypeInfo.RowBytes(type, dims[0]) * (elements / dims[0]);
        if (data.Length != expected) throw new ArgumentException($"tensor '{name}': {data.Length} bytes given, {type} {string.Join('x', dims)} takes {expected}");
        _tensors.Add((name, dims, type, data));
        return this;
    }

    public void Write(string path)
    {
        using var stream = File.Create(path);
        Write(stream);
    }

    public void Write(Stream stream)
    {
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(GgufFile.Magic);
        w.Write(3u);
        w.Write((ulong)_tensors.Count);
        bool hasAlignment = _metadata.Exists(kv => kv.Key == "general.alignment");
        w.Write((ulong)(_metadata.Count + (Alignment != GgufFile.DefaultAlignment && !hasAlignment ? 1 : 0)));
        foreach (var (key, value) in _metadata)
        {
            WriteString(w, key);
            w.Write((uint)value.Type);
            WriteValue(w, value);
        }
        if (Alignment != GgufFile.DefaultAlignment && !hasAlignment)
        {
            WriteString(w, "general.alignment");
            w.Write((uint)GgufValueType.UInt32);
            w.Write(Alignment);
        }

        long offset = 0;
        var offsets = new long[_tensors.Count];
        for (int i = 0; i < _tensors.Count; i++)
        {
            var (name, dims, type, data) = _tensors[i];
            WriteString(w, name);
            w.Write((uint)dims.Length);
            foreach (long d in dims) w.Write((ulong)d);
            w.Write((uint)type);
            w.Write((ulong)offset);
            offsets[i] = offset;
            offset = Align(offset + data.Length);
        }
        Pad(w);
        long dataStart = stream.Position;
        for (int i = 0; i < _tensors.Count; i++)
        {
            while (stream.Position - dataStart < offsets[i]) w.Write((byte)0);
            w.Write(_tensors[i].Data);
        }
        Pad(w);
    }

    private long Align(long x) => (x + Alignment - 1) / Alignment * Alignment;

    private void Pad(BinaryWriter w)
    {
        long pos = w.BaseStream.Position;
        for (long i = pos; i < Align(pos); i++) w.Write((byte)0);
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void WriteValue(BinaryWriter w, GgufValue v)
    {
        switch (v.Value)
        {
            case string s: WriteString(w, s); break;
            case bool b: w.Write((byte)(b ? 1 : 0)); break;
            case byte x: w.Write(x); break;
            case sbyte x: w.Write(x); break;
            case ushort x: w.Write(x); break;
            case short x: w.Write(x); break;
            case uint x: w.Write(x); break;
            case int x: w.Write(x); break;
            case ulong x: w.Write(x); break;
            case long x: w.Write(x); break;
            case float x: w.Write(x); break;
            case double x: w.Write(x); break;
            case Array a:
                w.Write((uint)v.ElementType);
                w.Write((ulong)a.Length);
                foreach (object? e in a)
                {
                    if (e is GgufValue inner) WriteValue(w, inner);
                    else WriteValue(w, new GgufValue(v.ElementType, e!));
                }
                break;
            default: throw new ArgumentException($"cannot write a GGUF value of type {v.Value.GetType()}");
        }
    }
}
