using System.CommandLine;
using Cairn.Engine.Gguf;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn inspect FILE.gguf</c>: the metadata and the tensor table.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("file") { Description = "A GGUF file" };
        var all = new Option<bool>("--full") { Description = "Print arrays in full instead of their first elements" };
        var command = new Command("inspect", "Print a GGUF file's metadata and tensor table") { file, all };
        command.SetAction(parse => CliErrors.Run(() => Inspect(parse.GetRequiredValue(file).FullName, parse.GetValue(all))));
        return command;
    }

    private static int Inspect(string path, bool full)
    {
        using var f = GgufFile.Open(path);
        var o = Console.Out;
        o.WriteLine($"file: {f.Path}");
        o.WriteLine($"GGUF version {f.Version}, {f.Length:N0} bytes, alignment {f.Alignment}, tensor data at {f.DataOffset:N0}");
        o.WriteLine($"metadata ({f.Metadata.Count} keys):");
        foreach (string key in f.MetadataKeys) o.WriteLine($"  {key} = {Format(f.Metadata[key], full)}");
        o.WriteLine($"tensors ({f.Tensors.Count}):");
        o.WriteLine($"  {"name",-32} {"type",-6} {"shape",-20} {"offset",14} {"bytes",14}");
        long total = 0;
        foreach (var t in f.Tensors)
        {
            o.WriteLine($"  {t.Name,-32} {t.Type,-6} {t.ShapeText,-20} {t.Offset,14:N0} {t.ByteSize,14:N0}");
            total += t.ByteSize;
        }
        o.WriteLine($"  total {total:N0} bytes of tensor data");
        return 0;
    }

    private static string Format(GgufValue v, bool full)
    {
        if (v.Value is string s) return Quote(s);
        if (v.Value is not Array a || v.Value is GgufValue[]) return v.IsArray ? $"[array of {v.ArrayLength} arrays]" : v.ToString();
        int shown = full ? a.Length : Math.Min(a.Length, 8);
        var items = new List<string>(shown);
        for (int i = 0; i < shown; i++)
        {
            object? e = a.GetValue(i);
            items.Add(e is string str ? Quote(str) : new GgufValue(v.ElementType, e!).ToString());
        }
        return $"[{v.ElementType} × {a.Length}] [{string.Join(", ", items)}{(shown < a.Length ? ", …" : "")}]";
    }

    private static string Quote(string s) =>
        "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n").Replace("\r", "\\r").Replace("\t", "\\t") + "\"";
}
