using Cairn.Engine.Gguf;
using Cairn.Engine.Inference;
using Cairn.Engine.Models;
using Cairn.Engine.Tensors;
using Cairn.Engine.Tests.TestSupport;

namespace Cairn.Engine.Tests.Models;

/// <summary>
/// An independent check of qwen2's NeoX RoPE and q/k/v biases: llama.cpp's converter turns the half-split (NeoX) rotary
/// layout into llama's interleaved one by permuting the rows of W_q and W_k within each head (row i → 2i, row i + d/2 →
/// 2i + 1). So a qwen2 model and the llama model with those rows (and bias elements) permuted compute the same function;
/// only the summation order of q·k differs, so their logits agree closely but not bit for bit.
/// </summary>
public sealed class Qwen2EquivalenceTests
{
    private static readonly int[] Prompt = [1, 40, 77, 120, 200, 33, 5, 250, 17, 99];

    private static string AsLlama(string qwen2Path, bool permute)
    {
        string path = Path.Combine(Path.GetTempPath(), $"cairn-qwen2-as-llama-{Guid.NewGuid():N}.gguf");
        using var f = GgufFile.Open(qwen2Path);
        var w = new GgufWriter();
        foreach (string key in f.MetadataKeys)
            w.Set(key.StartsWith("qwen2.", StringComparison.Ordinal) ? "llama." + key["qwen2.".Length..] : key, f.Metadata[key]);
        w.Set("general.architecture", "llama");
        int dim = (int)f.TryGetInteger("qwen2.embedding_length")!.Value, heads = (int)f.TryGetInteger("qwen2.attention.head_count")!.Value;
        int headDim = dim / heads;
        foreach (var t in f.Tensors)
        {
            byte[] data = f.TensorBytes(t).ToArray();
            bool rotated = t.Name.EndsWith("attn_q.weight") || t.Name.EndsWith("attn_k.weight") || t.Name.EndsWith("attn_q.bias") || t.Name.EndsWith("attn_k.bias");
            if (permute && rotated)
            {
                Assert.Equal(GgmlType.F32, t.Type);
                int rowBytes = t.Dimensions.Length == 1 ? 4 : (int)t.Dimensions[0] * 4;
                int rows = data.Length / rowBytes;
                var permuted = new byte[data.Length];
                for (int r = 0; r < rows; r++)
                {
                    int h = r / headDim, j = r % headDim;
                    int to = h * headDim + (j < headDim / 2 ? 2 * j : 2 * (j - headDim / 2) + 1);
                    Array.Copy(data, r * rowBytes, permuted, to * rowBytes, rowBytes);
                }
                data = permuted;
            }
            w.AddTensor(t.Name, t.Type, t.Dimensions, data);
        }
        w.Write(path);
        return path;
    }

    private static float[] Logits(string path)
    {
        using var model = Model.Load(path);
        var t = new Transformer(model, 2);
        var logits = new float[model.Config.VocabSize];
        t.Forward(t.CreateSession(), Prompt, logits);
        return logits;
    }

    private static double MaxRelativeDifference(float[] a, float[] b) =>
        a.Zip(b, (x, y) => Math.Abs((double)x - y)).Max() / a.Max(x => Math.Abs((double)x));

    [Fact]
    public void Qwen2_equals_llama_with_the_converter_permutation_of_q_and_k()
    {
        string qwen2 = SyntheticModels.Path(GgmlType.F32, "qwen2");
        string permuted = AsLlama(qwen2, permute: true), unpermuted = AsLlama(qwen2, permute: false);
        try
        {
            float[] reference = Logits(qwen2);
            Assert.True(MaxRelativeDifference(reference, Logits(permuted)) < 1e-4, "qwen2 and the permuted llama model disagree");
            // The check has power: without the permutation (llama's interleaved pairs on NeoX-ordered rows) the logits differ.
            Assert.True(MaxRelativeDifference(reference, Logits(unpermuted)) > 1e-2, "the permutation made no difference");
        }
        finally
        {
            File.Delete(permuted);
            File.Delete(unpermuted);
        }
    }
}
