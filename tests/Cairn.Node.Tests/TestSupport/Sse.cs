using System.Text;
using System.Text.Json;

namespace Cairn.Node.Tests.TestSupport;

/// <summary>A raw streamed (SSE) answer as the client saw it: the content of each <c>data:</c> event, and how it ended.</summary>
public sealed record SseAnswer(int Status, IReadOnlyList<string> Events, string? Error, bool Aborted = false)
{
    public bool Done => Events.Count > 0 && Events[^1] == "[DONE]";

    /// <summary>The chunks' text, concatenated (chat delta content or completion text).</summary>
    public string Text
    {
        get
        {
            var text = new StringBuilder();
            foreach (string e in Events.Where(e => e != "[DONE]"))
            {
                using var doc = JsonDocument.Parse(e);
                if (!doc.RootElement.TryGetProperty("choices", out var choices)) continue;
                foreach (var c in choices.EnumerateArray())
                {
                    if (c.TryGetProperty("delta", out var d) && d.TryGetProperty("content", out var content)) text.Append(content.GetString());
                    else if (c.TryGetProperty("text", out var t)) text.Append(t.GetString());
                }
            }
            return text.ToString();
        }
    }

    /// <summary>Whether any event carried text: the point after which the gateway can no longer retry elsewhere.</summary>
    public bool ReceivedText => Text.Length > 0;

    /// <summary>The error object's message if the last event is an error event.</summary>
    public string? ErrorEvent
    {
        get
        {
            if (Events.Count == 0 || Done) return null;
            using var doc = JsonDocument.Parse(Events[^1]);
            return doc.RootElement.TryGetProperty("error", out var e) ? e.GetProperty("message").GetString() : null;
        }
    }

    public string? FinishReason
    {
        get
        {
            foreach (string e in Events.Where(e => e != "[DONE]").Reverse())
            {
                using var doc = JsonDocument.Parse(e);
                if (!doc.RootElement.TryGetProperty("choices", out var choices)) continue;
                foreach (var c in choices.EnumerateArray())
                {
                    if (c.GetProperty("finish_reason").ValueKind == JsonValueKind.String) return c.GetProperty("finish_reason").GetString();
                }
            }
            return null;
        }
    }

    /// <summary>Posts <paramref name="json"/> and reads the SSE stream to its end; a non-200 answer is returned with its body as <see cref="Error"/>.</summary>
    public static async Task<SseAnswer> PostAsync(HttpClient http, string path, string json, CancellationToken cancel = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel);
        if (!response.IsSuccessStatusCode) return new SseAnswer((int)response.StatusCode, [], await response.Content.ReadAsStringAsync(cancel));
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancel));
        var events = new List<string>();
        try
        {
            while (await reader.ReadLineAsync(cancel) is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal)) events.Add(line["data: ".Length..]);
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            return new SseAnswer((int)response.StatusCode, events, null, Aborted: true);
        }
        return new SseAnswer((int)response.StatusCode, events, null);
    }
}
