using System.Xml.Linq;

namespace Cairn.Planner.Tests;

public sealed class ProjectReferenceTests
{
    [Fact]
    public void The_planner_references_only_the_engine_and_OR_Tools()
    {
        var xml = XDocument.Load(Path.Combine(ReferenceData.RepositoryRoot, "src", "Cairn.Planner", "Cairn.Planner.csproj"));
        Assert.Equal([@"..\Cairn.Engine\Cairn.Engine.csproj"], xml.Descendants("ProjectReference").Select(p => (string)p.Attribute("Include")!));
        Assert.Equal(["Google.OrTools", "Google.Protobuf"], xml.Descendants("PackageReference").Select(p => (string)p.Attribute("Include")!).Order());
    }
}
