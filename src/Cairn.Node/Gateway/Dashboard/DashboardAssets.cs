using System.Collections.Frozen;

namespace Cairn.Node.Gateway.Dashboard;

/// <summary>
/// The dashboard's static files (wwwroot/: one HTML page, one script, one style sheet, no third-party code), embedded in
/// Cairn.Node.dll as resources named <c>Cairn.Node.Dashboard.NAME</c>, so <c>cairn gateway</c> needs no folder beside it
/// and the page loads with the machine offline.
/// </summary>
public static class DashboardAssets
{
    private const string Prefix = "Cairn.Node.Dashboard.";

    private static readonly Lazy<FrozenDictionary<string, Asset>> Files = new(Load);

    public sealed record Asset(byte[] Bytes, string ContentType);

    public static Asset? Find(string name) => Files.Value.TryGetValue(name, out var a) ? a : null;

    public static IReadOnlyCollection<string> Names => Files.Value.Keys;

    private static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        var files = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (string resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            string name = resource[Prefix.Length..];
            files[name] = new Asset(copy.ToArray(), Path.GetExtension(name) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                ".svg" => "image/svg+xml",
                _ => "application/octet-stream",
            });
        }
        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
