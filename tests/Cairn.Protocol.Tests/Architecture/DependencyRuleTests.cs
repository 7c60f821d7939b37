using System.Reflection;
using System.Runtime.InteropServices;
using System.Xml.Linq;
using Cairn.Engine.Sampling;
using Cairn.Protocol.Crypto;
using Cairn.Protocol.Tests.TestSupport;

namespace Cairn.Protocol.Tests.Architecture;

/// <summary>
/// DESIGN.md §1: Engine → nothing of ours and no package; Protocol → nothing of ours and only BouncyCastle.Cryptography
/// (the departure its project file states). Checked twice: in the compiled assemblies' references (what actually
/// loads) and in the project files (what a build could start to use).
/// </summary>
public class DependencyRuleTests
{
    private static readonly string FrameworkDirectory = Path.GetFullPath(RuntimeEnvironment.GetRuntimeDirectory());

    [Fact]
    public void The_engine_references_only_the_base_library()
    {
        var outside = NonFrameworkReferences(typeof(SamplingOptions).Assembly);
        Assert.Empty(outside);
    }

    [Fact]
    public void The_protocol_references_only_the_base_library_and_BouncyCastle()
    {
        var outside = NonFrameworkReferences(typeof(Keccak256).Assembly);
        Assert.Equal(["BouncyCastle.Cryptography"], outside);
    }

    [Theory]
    [InlineData("src/Cairn.Engine/Cairn.Engine.csproj", new string[0])]
    [InlineData("src/Cairn.Protocol/Cairn.Protocol.csproj", new[] { "BouncyCastle.Cryptography" })]
    public void The_project_files_declare_no_other_references(string project, string[] allowedPackages)
    {
        var xml = XDocument.Load(Path.Combine(CairnProcess.RepositoryRoot, project));
        Assert.Empty(xml.Descendants("ProjectReference"));
        Assert.Empty(xml.Descendants("Reference"));
        Assert.Empty(xml.Descendants("FrameworkReference"));
        Assert.Equal(allowedPackages, xml.Descendants("PackageReference").Select(p => (string)p.Attribute("Include")!).Order());
    }

    private static string[] NonFrameworkReferences(Assembly assembly)
    {
        var names = new List<string>();
        foreach (var reference in assembly.GetReferencedAssemblies())
        {
            Assert.False(reference.Name!.StartsWith("Cairn", StringComparison.Ordinal), $"{assembly.GetName().Name} references {reference.Name}");
            string location = Assembly.Load(reference).Location;
            bool framework = location.Length > 0 && Path.GetFullPath(Path.GetDirectoryName(location)!).TrimEnd('/', '\\') == FrameworkDirectory.TrimEnd('/', '\\');
            if (!framework) names.Add(reference.Name);
        }
        return [.. names.Order()];
    }
}
