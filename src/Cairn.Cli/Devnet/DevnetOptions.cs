namespace Cairn.Cli.Devnet;

internal sealed record DevnetOptions
{
    public int Providers { get; init; } = 4;
    public string? Model { get; init; }
    public string? Tokenizer { get; init; }
    public string? ChatTemplate { get; init; }
    public int Port { get; init; } = 8080;
    public string? ApiKey { get; init; }
    public string DataDirectory { get; init; } = "devnet-data";
    public bool Demo { get; init; }
    public int? ThreadsPerProvider { get; init; }
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromMinutes(3);
}
