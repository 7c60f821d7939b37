namespace Cairn.Planner.Tests;

public sealed class DeviceFileTests
{
    private const string Good = """
        { "devices": [
          { "id": "laptop", "memoryBytes": 8000000000, "decodeBytesPerSecond": 2.0e10, "prefillFlopsPerSecond": 2e11, "linkLatencySeconds": 0.002, "linkBandwidthBytesPerSecond": 1.25e8 },
          { "id": "phone", "memoryBytes": 3000000000, "decodeBytesPerSecond": 5e9, "prefillFlopsPerSecond": 3e10, "linkLatencySeconds": 0, "linkBandwidthBytesPerSecond": 2e7 } ] }
        """;

    [Fact]
    public void A_well_formed_file_is_read_in_order()
    {
        var d = DeviceFile.Parse(Good);
        Assert.Equal(["laptop", "phone"], d.Select(x => x.Id));
        Assert.Equal(new DeviceProfile("laptop", 8_000_000_000, 2e10, 2e11, 0.002, 1.25e8), d[0]);
        Assert.Equal(0, d[1].LinkLatencySeconds);
    }

    [Theory]
    [InlineData("{", "not valid JSON")]
    [InlineData("[]", "expected an object with a \"devices\" array")]
    [InlineData("{\"devices\": []}", "\"devices\" has 0 entries")]
    [InlineData("{\"devices\": [3]}", "devices[0]: expected an object")]
    [InlineData("{\"devices\": [{\"memoryBytes\": 1}]}", "\"id\" must be a non-empty string")]
    public void Malformed_files_are_rejected_with_the_place_named(string json, string message)
    {
        Assert.Contains(message, Assert.Throws<PlannerInputException>(() => DeviceFile.Parse(json)).Message);
    }

    [Theory]
    [InlineData("\"memoryBytes\": 8000000000", "\"memoryBytes\": 0", "memoryBytes 0 must be positive")]
    [InlineData("\"memoryBytes\": 8000000000", "\"memoryBytes\": 1.5", "\"memoryBytes\" must be an integer")]
    [InlineData("\"decodeBytesPerSecond\": 2.0e10", "\"decodeBytesPerSecond\": -1", "decodeBytesPerSecond -1 must be a positive")]
    [InlineData("\"prefillFlopsPerSecond\": 2e11", "\"prefillFlopsPerSecond\": 0", "prefillFlopsPerSecond 0 must be a positive")]
    [InlineData("\"linkLatencySeconds\": 0.002", "\"linkLatencySeconds\": -0.1", "linkLatencySeconds -0.1 must be zero or positive")]
    [InlineData("\"linkBandwidthBytesPerSecond\": 1.25e8", "\"linkBandwidthBytesPerSecond\": \"fast\"", "\"linkBandwidthBytesPerSecond\" must be a number")]
    [InlineData("\"linkLatencySeconds\": 0.002, ", "", "\"linkLatencySeconds\" must be a number")]
    [InlineData("\"id\": \"phone\"", "\"id\": \"laptop\"", "devices[1]: duplicate id 'laptop'")]
    [InlineData("\"id\": \"phone\"", "\"id\": \"phone\", \"memoryGb\": 3", "devices[1]: unknown field \"memoryGb\"")]
    public void Bad_values_are_rejected_with_the_device_and_the_field_named(string from, string to, string message)
    {
        string json = Good.Replace(from, to, StringComparison.Ordinal);
        Assert.NotEqual(Good, json);
        var e = Assert.Throws<PlannerInputException>(() => DeviceFile.Parse(json));
        Assert.Contains(message, e.Message);
        Assert.Contains("devices[", e.Message);
    }

    [Fact]
    public void A_benchmark_in_tokens_per_second_becomes_bytes_and_flops_per_second()
    {
        var model = TestSupport.Instances.Model(2, _ => 1_000);
        var d = DeviceProfile.FromBenchmark("p", 1_000_000, model, prefillTokensPerSecond: 100, decodeTokensPerSecond: 10, 0.001, 1e7);
        Assert.Equal(10 * (2000 + model.FirstStageReadBytesPerToken + model.LastStageReadBytesPerToken), d.DecodeBytesPerSecond, 1e-6);
        Assert.Equal(100 * (4000 + model.LastStageFlopsPerToken), d.PrefillFlopsPerSecond, 1e-6);
    }
}
