using Cairn.Protocol.Tests.TestSupport;

namespace Cairn.Protocol.Tests.Messages;

public class ProtocolDocTests
{
    [Fact]
    public void Docs_protocol_md_shows_the_frozen_golden_values()
    {
        string doc = File.ReadAllText(Path.Combine(CairnProcess.RepositoryRoot, "docs", "protocol.md"));
        foreach (string value in new[]
                 {
                     InferenceRequestTests.GoldenBodyHex, InferenceRequestTests.GoldenHash, InferenceRequestTests.GoldenSignature,
                     ReceiptTests.GoldenBodyHex, ReceiptTests.GoldenHash, ReceiptTests.GoldenSignature,
                     StagePartTests.GoldenBodyHex, StagePartTests.GoldenHash, StagePartTests.GoldenSignature,
                     StageAssignmentTests.GoldenBodyHex, StageAssignmentTests.GoldenHash, StageAssignmentTests.GoldenSignature,
                 })
        {
            Assert.Contains(value, doc);
        }
    }
}
