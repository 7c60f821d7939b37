using Cairn.Engine.Gguf;

namespace Cairn.Cli.Commands;

/// <summary>
/// Whether a LoRA adapter file fits a base model file, checked before the adapter is published (docs/contributions.md).
/// An adapter in llama.cpp's GGUF format has <c>general.type = adapter</c>, <c>adapter.type = lora</c>,
/// <c>adapter.lora.alpha</c>, and for each adapted base tensor <c>W</c> (ggml dims [in, out]) a pair
/// <c>W.lora_a</c> [in, r] and <c>W.lora_b</c> [r, out]. Every pair must name a tensor of the base, lora_a's input
/// dimension must be the base tensor's, lora_b's output dimension the base tensor's, and both must share the rank r.
/// </summary>
internal static class AdapterShapeCheck
{
    private const string A = ".lora_a", B = ".lora_b";

    /// <summary>The first reason the adapter does not fit the base, as a sentence naming the tensor; null when it fits.</summary>
    public static string? Problem(GgufFile adapter, GgufFile model)
    {
        if (adapter.TryGetString("general.type") is not "adapter") return $"{adapter.Path} is not an adapter (general.type is \"{adapter.TryGetString("general.type")}\", not \"adapter\")";
        if (adapter.TryGetString("adapter.type") is not "lora") return $"{adapter.Path} is not a LoRA adapter (adapter.type is \"{adapter.TryGetString("adapter.type")}\", not \"lora\")";
        if (adapter.TryGetNumber("adapter.lora.alpha") is null) return $"{adapter.Path} has no adapter.lora.alpha";
        if (model.TryGetString("general.type") is "adapter") return $"the base {model.Path} is itself an adapter, not a model";
        if (adapter.TryGetString("general.architecture") is { } arch && model.TryGetString("general.architecture") is { } baseArch && arch != baseArch)
            return $"the adapter is for architecture \"{arch}\", the base model is \"{baseArch}\"";
        int pairs = 0;
        foreach (var t in adapter.Tensors)
        {
            bool isA = t.Name.EndsWith(A, StringComparison.Ordinal);
            if (!isA && !t.Name.EndsWith(B, StringComparison.Ordinal)) return $"tensor {t.Name} is neither a .lora_a nor a .lora_b tensor";
            string target = t.Name[..^A.Length];
            string partner = target + (isA ? B : A);
            if (!adapter.TryGetTensor(partner, out var other)) return $"tensor {t.Name} has no partner {partner}";
            if (!isA) continue;
            if (PairProblem(target, t, other, model) is { } problem) return problem;
            pairs++;
        }
        return pairs == 0 ? $"{adapter.Path} adapts no tensor (no .lora_a/.lora_b pairs)" : null;
    }

    private static string? PairProblem(string target, GgufTensorInfo a, GgufTensorInfo b, GgufFile model)
    {
        if (!model.TryGetTensor(target, out var w)) return $"the adapter adapts {target}, which the base model does not have";
        if (w.Dimensions.Length != 2) return $"base tensor {target} has shape {w.ShapeText}; only matrices can be adapted";
        if (a.Dimensions.Length != 2 || b.Dimensions.Length != 2) return $"{a.Name} {a.ShapeText} and {b.Name} {b.ShapeText} must both be matrices";
        long input = w.Dimensions[0], output = w.Dimensions[1];
        if (a.Dimensions[0] != input) return $"{a.Name} has shape {a.ShapeText}: its input dimension {a.Dimensions[0]} is not the base tensor's {input} ({target} is {w.ShapeText})";
        if (b.Dimensions[1] != output) return $"{b.Name} has shape {b.ShapeText}: its output dimension {b.Dimensions[1]} is not the base tensor's {output} ({target} is {w.ShapeText})";
        if (a.Dimensions[1] != b.Dimensions[0] || a.Dimensions[1] < 1) return $"{a.Name} {a.ShapeText} and {b.Name} {b.ShapeText} disagree on the rank ({a.Dimensions[1]} vs {b.Dimensions[0]})";
        return null;
    }
}
