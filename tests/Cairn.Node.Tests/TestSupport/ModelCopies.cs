namespace Cairn.Node.Tests.TestSupport;

/// <summary>Model files derived from the reference model, for cheaters that compute with something else.</summary>
public static class ModelCopies
{
    /// <summary>The reference model with its first two of four layers: the same vocabulary, half the work (a temporary file).</summary>
    public static string SmallerModel()
    {
        string path = Path.Combine(Path.GetTempPath(), "cairn-smaller-" + Guid.NewGuid().ToString("N")[..8] + ".gguf");
        using var file = Engine.Gguf.GgufFile.Open(Devnet.ModelPath);
        Engine.Gguf.GgufWriter.CopyOf(file, t => !t.Name.StartsWith("blk.", StringComparison.Ordinal) || t.Name.StartsWith("blk.0.", StringComparison.Ordinal) || t.Name.StartsWith("blk.1.", StringComparison.Ordinal))
            .Set("llama.block_count", 2u).Write(path);
        return path;
    }
}
