using System.Collections.Concurrent;
using Cairn.Engine.Adapters;
using Cairn.Engine.Gguf;
using Cairn.Engine.Kernels;
using Cairn.Engine.Models;
using Cairn.Engine.Tensors;

namespace Cairn.Engine.Tests.TestSupport;

/// <summary>
/// LoRA adapter GGUFs (llama.cpp's format, random low-rank A and B) for the synthetic models of
/// <see cref="SyntheticModels"/>, written once per test run; and the merge W' = dequant(W) + (α/r)·B·A in float64.
/// </summary>
public static class LoraAdapters
{
    private static readonly string Folder = Directory.CreateTempSubdirectory("cairn-lora-").FullName;
    private static readonly ConcurrentDictionary<string, Lazy<string>> Paths = new();

    public static readonly LoraTarget[] AllTargets = Enum.GetValues<LoraTarget>();

    /// <summary>An adapter for <c>SyntheticModels.Path(type)</c> changing <paramref name="targets"/> in every layer.</summary>
    public static string Path(GgmlType baseType, string name, SyntheticLoraSpec spec)
    {
        return Paths.GetOrAdd($"{baseType}-{name}", k => new Lazy<string>(() =>
        {
            string path = System.IO.Path.Combine(Folder, k + ".gguf");
            using var model = Model.Load(SyntheticModels.Path(baseType));
            SyntheticLora.Write(path, model.Config, spec);
            return path;
        })).Value;
    }

    /// <summary>
    /// A copy of <paramref name="modelPath"/> in which every matrix the adapters change is F32: dequant(W), plus each
    /// adapter's (α/r)·B·A when <paramref name="merge"/> (summed in float64, rounded once).
    /// </summary>
    public static string Merged(string modelPath, IReadOnlyList<LoraAdapter> adapters, bool merge, string outputPath)
    {
        using var file = GgufFile.Open(modelPath);
        var adapted = adapters.SelectMany(a => a.Pairs).Select(p => p.BaseName).ToHashSet(StringComparer.Ordinal);
        var writer = GgufWriter.CopyOf(file, t => !adapted.Contains(t.Name));
        foreach (string name in adapted.Order(StringComparer.Ordinal))
        {
            var t = file.GetTensor(name);
            int cols = (int)t.Columns, rows = (int)t.Rows;
            var w = new float[rows * cols];
            long rowBytes = GgmlTypeInfo.RowBytes(t.Type, cols);
            var data = file.TensorBytes(t);
            for (int r = 0; r < rows; r++) Dequantize.Row(t.Type, data.Slice((int)(r * rowBytes), (int)rowBytes), w.AsSpan(r * cols, cols));
            var sum = new double[w.Length];
            for (int i = 0; i < w.Length; i++) sum[i] = w[i];
            if (merge)
            {
                foreach (var p in adapters.SelectMany(a => a.Pairs).Where(p => p.BaseName == name))
                {
                    for (int j = 0; j < rows; j++)
                    {
                        for (int c = 0; c < cols; c++)
                        {
                            double d = 0;
                            for (int k = 0; k < p.Rank; k++) d += (double)p.B[j * p.Rank + k] * p.A[k * cols + c];
                            sum[j * cols + c] += (double)p.Scale * d;
                        }
                    }
                }
            }
            var bytes = new byte[w.Length * 4];
            for (int i = 0; i < w.Length; i++) BitConverter.TryWriteBytes(bytes.AsSpan(i * 4), (float)sum[i]);
            writer.AddTensor(name, GgmlType.F32, [cols, rows], bytes);
        }
        writer.Write(outputPath);
        return outputPath;
    }
}
