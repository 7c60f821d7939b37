namespace Cairn.Node.Gateway.Dashboard;

/// <summary>
/// The most recent answered requests, newest last, for the dashboard's live feed: what each receipt says (hashes,
/// counts, price) and never the prompt or the client's key. Each entry has a sequence number so a page asks only for
/// what it has not seen (<c>GET /v1/network/requests?after=N</c>).
/// </summary>
public sealed class RequestFeed(int capacity = RequestFeed.DefaultCapacity)
{
    public const int DefaultCapacity = 500;

    private readonly Queue<FeedEntry> _entries = new();
    private readonly Lock _gate = new();
    private long _sequence;

    public void Add(StoredReceipt r)
    {
        var receipt = r.Receipt;
        lock (_gate)
        {
            _entries.Enqueue(new FeedEntry(++_sequence, r.Id, r.Model, receipt.Provider.ToString(), receipt.Hash().ToString(), receipt.RequestHash.ToString(),
                receipt.OutputCommitment.ToString(), receipt.TraceRoot.ToString(), receipt.PromptTokens, receipt.CompletionTokens, receipt.Price, r.Created));
            while (_entries.Count > capacity) _entries.Dequeue();
        }
    }

    /// <summary>Entries with a sequence number above <paramref name="after"/>, oldest first.</summary>
    public FeedEntry[] After(long after)
    {
        lock (_gate) return [.. _entries.Where(e => e.Seq > after)];
    }
}

/// <summary>One answered request as the feed shows it; <c>ReceiptHash</c> is the Keccak-256 of the signed receipt.</summary>
public sealed record FeedEntry(long Seq, string Id, string Model, string Provider, string ReceiptHash, string RequestHash, string OutputCommitment,
    string TraceRoot, int PromptTokens, int CompletionTokens, ulong Price, DateTimeOffset Created);
