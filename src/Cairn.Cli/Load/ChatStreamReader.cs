using System.Text;
using System.Text.Json;

namespace Cairn.Cli.Load;

/// <summary>What one streamed chat completion delivered.</summary>
public sealed record ChatStreamResult
{
    /// <summary>The stream ended with <c>data: [DONE]</c>.</summary>
    public bool Done { get; init; }

    /// <summary>An error event, a malformed event, or null. Set on the first problem seen.</summary>
    public string? Error { get; init; }

    /// <summary>Chunks with non-empty <c>delta.content</c>.</summary>
    public int ContentChunks { get; init; }

    /// <summary><c>usage.completion_tokens</c> when the server sent usage.</summary>
    public int? UsageCompletionTokens { get; init; }

    /// <summary>The completion's <c>id</c> (the first one seen).</summary>
    public string? Id { get; init; }

    /// <summary>The <c>system_fingerprint</c> of the first chunk that had one.</summary>
    public string? SystemFingerprint { get; init; }

    public string? FinishReason { get; init; }

    /// <summary>A success is a stream that ended with [DONE] and had no error event.</summary>
    public bool Success => Done && Error is null;

    /// <summary>Tokens generated: the server's usage when present, else the content chunks.</summary>
    public int Tokens => UsageCompletionTokens ?? ContentChunks;
}

/// <summary>
/// Reads an OpenAI-style server-sent-event stream of <c>chat.completion.chunk</c> objects (also tolerates the
/// <c>text_completion</c> form). Events are <c>data:</c> lines ended by a blank line; comment lines (<c>:</c>) and
/// other fields are skipped, except an <c>error</c> field or an <c>event: error</c>, which are errors. A stream that
/// ends without <c>data: [DONE]</c> is truncated, and so not a success.
/// </summary>
public static class ChatStreamReader
{
    /// <param name="stream">The response body.</param>
    /// <param name="onFirstContent">Called once, when the first non-empty content arrives (for time to first token).</param>
    public static async Task<ChatStreamResult> ReadAsync(Stream stream, Action? onFirstContent, CancellationToken cancellationToken)
    {
        var state = new State();
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize: 4096, leaveOpen: true);
        var data = new StringBuilder();
        string? eventName = null;
        while (true)
        {
            string? line = await reader.ReadLineAsync(cancellationToken);
            if (line is null) break;
            if (line.Length == 0)
            {
                if (data.Length > 0 || eventName != null) Dispatch(state, eventName, data.ToString(), onFirstContent);
                data.Clear();
                eventName = null;
                if (state.Done) break;
                continue;
            }
            if (line[0] == ':') continue;
            int colon = line.IndexOf(':');
            string field = colon < 0 ? line : line[..colon];
            string value = colon < 0 ? "" : line[(colon + 1)..];
            if (value.StartsWith(' ')) value = value[1..];
            switch (field)
            {
                case "data":
                    if (data.Length > 0) data.Append('\n');
                    data.Append(value);
                    break;
                case "event":
                    eventName = value;
                    break;
                case "error":
                    state.Error ??= "error field: " + Shorten(value);
                    break;
            }
        }
        // An event cut before its blank line is incomplete and dropped (the SSE rule), except a final "data: [DONE]"
        // some servers close right after.
        if (!state.Done && data.ToString() == "[DONE]") state.Done = true;
        return new ChatStreamResult
        {
            Done = state.Done,
            Error = state.Error ?? (state.Done ? null : "truncated: the stream ended without [DONE]"),
            ContentChunks = state.ContentChunks,
            UsageCompletionTokens = state.Usage,
            Id = state.Id,
            SystemFingerprint = state.Fingerprint,
            FinishReason = state.Finish,
        };
    }

    private static void Dispatch(State s, string? eventName, string data, Action? onFirstContent)
    {
        if (s.Done) return;
        if (data == "[DONE]")
        {
            s.Done = true;
            return;
        }
        if (eventName == "error")
        {
            s.Error ??= "error event: " + Shorten(data);
            return;
        }
        try
        {
            using var doc = JsonDocument.Parse(data);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                s.Error ??= "malformed event: not a JSON object";
                return;
            }
            if (root.TryGetProperty("error", out var error) && error.ValueKind != JsonValueKind.Null)
            {
                s.Error ??= "error event: " + (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var m) ? m.ToString() : Shorten(error.ToString()));
                return;
            }
            if (s.Id is null && root.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String) s.Id = id.GetString();
            if (s.Fingerprint is null && root.TryGetProperty("system_fingerprint", out var fp) && fp.ValueKind == JsonValueKind.String) s.Fingerprint = fp.GetString();
            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object
                && usage.TryGetProperty("completion_tokens", out var ct) && ct.TryGetInt32(out int n)) s.Usage = n;
            if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
            {
                foreach (var choice in choices.EnumerateArray())
                {
                    string? text = null;
                    if (choice.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.Object
                        && delta.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String) text = content.GetString();
                    else if (choice.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String) text = t.GetString();
                    if (!string.IsNullOrEmpty(text))
                    {
                        if (s.ContentChunks++ == 0) onFirstContent?.Invoke();
                    }
                    if (choice.TryGetProperty("finish_reason", out var fr) && fr.ValueKind == JsonValueKind.String) s.Finish = fr.GetString();
                }
            }
        }
        catch (JsonException e)
        {
            s.Error ??= "malformed event: " + e.Message;
        }
    }

    private static string Shorten(string s) => s.Length <= 200 ? s : s[..200] + "…";

    private sealed class State
    {
        public bool Done;
        public string? Error;
        public int ContentChunks;
        public int? Usage;
        public string? Id;
        public string? Fingerprint;
        public string? Finish;
    }
}
