using System.Collections.Concurrent;
using Cairn.Engine.Models;
using Cairn.Engine.Tensors;

namespace Cairn.Engine.Tests.TestSupport;

/// <summary>Synthetic GGUF models written once per test run into a temporary folder, one per architecture and weight type.</summary>
public static class SyntheticModels
{
    private static readonly string Folder = Directory.CreateTempSubdirectory("cairn-tests-").FullName;
    private static readonly ConcurrentDictionary<string, Lazy<string>> Paths = new();

    public static readonly GgmlType[] SupportedTypes = [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K];

    public static string Path(GgmlType type, string architecture = "llama", bool tied = false, int layers = 3)
    {
        string key = $"{architecture}-{type}-{(tied ? "tied" : "untied")}" + (layers == 3 ? "" : $"-{layers}layers");
        return Paths.GetOrAdd(key, k => new Lazy<string>(() =>
        {
            string path = System.IO.Path.Combine(Folder, k + ".gguf");
            SyntheticModel.Write(path, new SyntheticModelSpec
            {
                Architecture = architecture,
                WeightType = type,
                TiedOutput = tied,
                Layers = layers,
                Seed = (ulong)type + 11,
            });
            return path;
        })).Value;
    }

    public static TheoryData<GgmlType> Types()
    {
        var data = new TheoryData<GgmlType>();
        foreach (var t in SupportedTypes) data.Add(t);
        return data;
    }
}
