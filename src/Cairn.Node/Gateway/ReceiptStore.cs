using System.Collections.Concurrent;
using System.Text.Json;
using Cairn.Protocol.Messages;

namespace Cairn.Node.Gateway;

/// <summary>A served answer's evidence: the signed request and the provider's signed receipt, by response id.</summary>
public sealed record StoredReceipt(string Id, string Model, string Client, InferenceRequest Request, Receipt Receipt, DateTimeOffset Created)
{
    /// <summary>A pipelined answer: every stage's signed part of the trace, in layer order (docs/pipeline.md); null otherwise.</summary>
    public IReadOnlyList<StagePart>? StageParts { get; init; }
}

/// <summary>
/// Receipts of every answer, kept in memory and appended to <c>receipts.jsonl</c> under the data folder (canonical
/// bytes in hex, so anyone can re-verify them). The ledger of issue 5 will take this role.
/// </summary>
public sealed class ReceiptStore : IDisposable
{
    private readonly ConcurrentDictionary<string, StoredReceipt> _byId = new(StringComparer.Ordinal);
    private readonly StreamWriter? _log;
    private readonly Lock _gate = new();

    public ReceiptStore(string? dataDirectory)
    {
        if (dataDirectory is null) return;
        Directory.CreateDirectory(dataDirectory);
        _log = new StreamWriter(new FileStream(Path.Combine(dataDirectory, "receipts.jsonl"), FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
    }

    public int Count => _byId.Count;

    /// <summary>Raised after each receipt is stored (the dashboard's feed and the token counters listen).</summary>
    public event Action<StoredReceipt>? Added;

    public void Add(StoredReceipt r)
    {
        _byId[r.Id] = r;
        Added?.Invoke(r);
        if (_log is null) return;
        var fields = new Dictionary<string, string>
        {
            ["id"] = r.Id,
            ["model"] = r.Model,
            ["client"] = r.Client,
            ["request"] = Convert.ToHexStringLower(r.Request.Encode()),
            ["receipt"] = Convert.ToHexStringLower(r.Receipt.Encode()),
            ["created"] = r.Created.ToString("O"),
        };
        if (r.StageParts is { } parts) fields["stage_parts"] = string.Join(",", parts.Select(p => Convert.ToHexStringLower(p.Encode())));
        string line = JsonSerializer.Serialize(fields);
        lock (_gate) _log.WriteLine(line);
    }

    public StoredReceipt? Find(string id) => _byId.TryGetValue(id, out var r) ? r : null;

    public void Dispose() => _log?.Dispose();
}
