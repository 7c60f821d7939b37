using System.Runtime.InteropServices;
using Cairn.Engine.Kernels;
using Cairn.Engine.Tensors;

namespace Cairn.Engine.Models;

/// <summary>
/// A copy of a model whose weight matrices are converted in memory to another type (dequantized to f32 row by row,
/// then written by <see cref="WeightQuantizer"/>); a matrix already of that type, or whose rows are not a whole number
/// of the type's blocks, is kept as it is; norms, biases, tokenizer and configuration are shared. The
/// FAULT INJECTION <c>cheaper-type</c> provider uses it to compute with cheaper weights than the file it claims.
/// The copy owns only its native weight memory: keep <paramref name="source"/> alive while the copy is used.
/// </summary>
public static unsafe class ModelRequantizer
{
    public static Model Requantize(Model source, GgmlType target)
    {
        if (!WeightQuantizer.CanWrite(target)) throw new ArgumentException($"cannot requantize to {target}: the targets are F32, F16, Q8_0 and Q4_0", nameof(target));
        var memory = new NativeWeights();
        try
        {
            var converted = new Dictionary<Weight, Weight>(ReferenceEqualityComparer.Instance);
            Weight Convert(Weight w)
            {
                if (converted.TryGetValue(w, out var done)) return done; // a tied output stays tied
                if (w.Type == target || w.Cols % GgmlTypeInfo.BlockSize(target) != 0) return converted[w] = w;
                long rowBytes = GgmlTypeInfo.RowBytes(target, w.Cols);
                byte* data = memory.Allocate(rowBytes * w.Rows);
                var row = new float[w.Cols];
                for (int r = 0; r < w.Rows; r++)
                {
                    w.DequantizeRow(r, row);
                    WeightQuantizer.Row(target, row, new Span<byte>(data + rowBytes * r, (int)rowBytes));
                }
                return converted[w] = new Weight(w.Name, target, w.Rows, w.Cols, data);
            }
            var layers = source.Layers.Select(l => new LayerWeights
            {
                AttnNorm = l.AttnNorm,
                Wq = Convert(l.Wq),
                Wk = Convert(l.Wk),
                Wv = Convert(l.Wv),
                Wo = Convert(l.Wo),
                Bq = l.Bq,
                Bk = l.Bk,
                Bv = l.Bv,
                FfnNorm = l.FfnNorm,
                Gate = Convert(l.Gate),
                Down = Convert(l.Down),
                Up = Convert(l.Up),
            }).ToArray();
            if (memory.Count == 0) throw new ArgumentException($"no weight matrix of the model can be converted to {target}", nameof(target));
            return new Model(source.Source, source.Config, Convert(source.TokenEmbedding), layers, source.OutputNorm, Convert(source.Output),
                source.Tokenizer, source.RopeFreqFactors, memory, source.ChatTemplateSource);
        }
        catch
        {
            memory.Dispose();
            throw;
        }
    }

    /// <summary>The converted weights' native memory (64-byte aligned), freed together.</summary>
    private sealed class NativeWeights : IDisposable
    {
        private readonly List<nint> _blocks = [];

        public int Count => _blocks.Count;

        public byte* Allocate(long bytes)
        {
            byte* p = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 1), 64);
            _blocks.Add((nint)p);
            return p;
        }

        public void Dispose()
        {
            foreach (nint p in _blocks) NativeMemory.AlignedFree((void*)p);
            _blocks.Clear();
        }
    }
}
