namespace Cairn.Node.Tests.TestSupport;

/// <summary>Locates <c>../shared/reference/</c> beside the checkout (see its README). Tests that need it skip clearly when it is absent.</summary>
public static class ReferenceData
{
    public static string? Root { get; } = Find();

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    private static string FindRepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Cairn.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("cannot find Cairn.slnx above " + AppContext.BaseDirectory);
    }

    private static string? Find()
    {
        string? env = Environment.GetEnvironmentVariable("CAIRN_REFERENCE");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return env;
        string candidate = Path.GetFullPath(Path.Combine(FindRepositoryRoot(), "..", "shared", "reference"));
        return Directory.Exists(candidate) ? candidate : null;
    }

    /// <summary>Path of a reference file, e.g. <c>Model("tiny-Q8_0.gguf")</c>; fails the test with a clear message when the data is absent.</summary>
    public static string Model(string name) => Require(Path.Combine("models", name));

    public static string Vocab(string name) => Require(Path.Combine("vocab", name));

    private static string Require(string relative)
    {
        if (Root is null) Assert.Fail("../shared/reference/ is absent: this conformance test needs the reference data (set CAIRN_REFERENCE to its path)");
        string path = Path.Combine(Root, relative);
        if (!File.Exists(path)) Assert.Fail($"reference file {path} is absent");
        return path;
    }
}
