using System.Xml.Linq;

namespace Cairn.Ledger.Tests.Architecture;

/// <summary>DESIGN.md §1: Ledger → Protocol only, and it is the only project that touches SQLite or PostgreSQL.</summary>
public class LedgerDependencyTests
{
    private static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Cairn.slnx"))) return dir.FullName;
            throw new DirectoryNotFoundException("Cairn.slnx not found");
        }
    }

    [Fact]
    public void The_ledger_references_only_the_protocol_and_the_two_database_drivers()
    {
        var xml = XDocument.Load(Path.Combine(Root, "src/Cairn.Ledger/Cairn.Ledger.csproj"));
        Assert.Equal([@"..\Cairn.Protocol\Cairn.Protocol.csproj"], xml.Descendants("ProjectReference").Select(p => (string)p.Attribute("Include")!));
        Assert.Equal(["Microsoft.Data.Sqlite", "Npgsql", "SQLitePCLRaw.bundle_e_sqlite3", "SQLitePCLRaw.core"],
            xml.Descendants("PackageReference").Select(p => (string)p.Attribute("Include")!).Order());
        var loaded = typeof(LedgerBook).Assembly.GetReferencedAssemblies().Select(a => a.Name!).Where(n => n.StartsWith("Cairn", StringComparison.Ordinal));
        Assert.Equal(["Cairn.Protocol"], loaded);
    }

    [Theory]
    [InlineData("src/Cairn.Protocol/Cairn.Protocol.csproj")]
    [InlineData("src/Cairn.Engine/Cairn.Engine.csproj")]
    [InlineData("src/Cairn.Node/Cairn.Node.csproj")]
    [InlineData("src/Cairn.Cli/Cairn.Cli.csproj")]
    public void No_other_project_references_a_database_driver(string project)
    {
        var packages = XDocument.Load(Path.Combine(Root, project)).Descendants("PackageReference").Select(p => (string)p.Attribute("Include")!);
        Assert.DoesNotContain(packages, p => p.Contains("Sqlite", StringComparison.OrdinalIgnoreCase) || p.Contains("Npgsql", StringComparison.OrdinalIgnoreCase));
    }
}
