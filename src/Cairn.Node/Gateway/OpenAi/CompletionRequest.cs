using System.Text.Json;

namespace Cairn.Node.Gateway.OpenAi;

/// <summary>
/// A parsed <c>/v1/completions</c> or <c>/v1/chat/completions</c> body. Parsing checks every field's type and range and
/// names the offending parameter, as OpenAI's API does; unknown fields are ignored.
/// </summary>
public sealed record CompletionRequest
{
    public const int MaxStopStrings = 4;
    public const int MaxMessages = 1024;
    public const int MaxTokensLimit = 1 << 20;

    public required string Model { get; init; }
    public string? Prompt { get; init; }
    public IReadOnlyList<(string Role, string Content)>? Messages { get; init; }
    public int? MaxTokens { get; init; }
    public float Temperature { get; init; } = 1f;
    public float TopP { get; init; } = 1f;
    public int TopK { get; init; }
    public float MinP { get; init; }
    public float RepeatPenalty { get; init; } = 1f;
    public ulong? Seed { get; init; }
    public bool Stream { get; init; }
    public bool IncludeUsage { get; init; }
    public IReadOnlyList<string> Stop { get; init; } = [];
    public string? User { get; init; }

    public bool IsChat => Messages != null;

    public static CompletionRequest Parse(ReadOnlySpan<byte> body, bool chat)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw OpenAiError.BadRequest($"the request body is not valid JSON: {e.Message}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw OpenAiError.BadRequest("the request body must be a JSON object");
            string model = String(root, "model") ?? throw OpenAiError.BadRequest("you must provide a model parameter", "model");
            model = WithAdapters(root, model);

            string? prompt = null;
            List<(string, string)>? messages = null;
            if (chat)
            {
                if (!root.TryGetProperty("messages", out var m) || m.ValueKind != JsonValueKind.Array)
                    throw OpenAiError.BadRequest("'messages' must be an array of messages", "messages");
                if (m.GetArrayLength() is 0 or > MaxMessages)
                    throw OpenAiError.BadRequest($"'messages' must hold 1 to {MaxMessages} messages", "messages");
                messages = [];
                int i = 0;
                foreach (var msg in m.EnumerateArray())
                {
                    if (msg.ValueKind != JsonValueKind.Object) throw OpenAiError.BadRequest($"messages[{i}] must be an object", $"messages[{i}]");
                    string role = String(msg, "role", $"messages[{i}].role") ?? throw OpenAiError.BadRequest($"messages[{i}].role is required", $"messages[{i}].role");
                    if (role is not ("system" or "user" or "assistant" or "developer"))
                        throw OpenAiError.BadRequest($"messages[{i}].role '{role}' is not one of system, developer, user, assistant", $"messages[{i}].role");
                    messages.Add((role == "developer" ? "system" : role, Content(msg, i)));
                    i++;
                }
            }
            else
            {
                if (!root.TryGetProperty("prompt", out var p)) throw OpenAiError.BadRequest("you must provide a prompt parameter", "prompt");
                prompt = p.ValueKind switch
                {
                    JsonValueKind.String => p.GetString()!,
                    JsonValueKind.Array when p.GetArrayLength() == 1 && p[0].ValueKind == JsonValueKind.String => p[0].GetString()!,
                    _ => throw OpenAiError.BadRequest("'prompt' must be a string (or an array of one string)", "prompt"),
                };
            }

            int? maxTokens = Int(root, "max_completion_tokens") ?? Int(root, "max_tokens");
            if (maxTokens is < 0 or > MaxTokensLimit) throw OpenAiError.BadRequest($"max_tokens {maxTokens} is out of range (0 to {MaxTokensLimit})", "max_tokens");
            if (!chat && maxTokens is null) maxTokens = 16; // OpenAI's default for completions
            int? n = Int(root, "n");
            if (n is not (null or 1)) throw OpenAiError.BadRequest($"n = {n} is not supported; only n = 1", "n");
            if (root.TryGetProperty("logprobs", out var lp) && lp.ValueKind is not (JsonValueKind.Null or JsonValueKind.False))
                throw OpenAiError.BadRequest("logprobs are not supported", "logprobs");

            float temperature = Float(root, "temperature", 0, 2) ?? 1f;
            float topP = Float(root, "top_p", 0, 1) ?? 1f;
            if (topP == 0) topP = float.Epsilon; // keep only the most likely token, as OpenAI does for top_p 0
            int topK = Int(root, "top_k") ?? 0;
            if (topK is < 0 or > 1 << 20) throw OpenAiError.BadRequest($"top_k {topK} is out of range", "top_k");
            float minP = Float(root, "min_p", 0, 1) ?? 0f;
            float repeat = Float(root, "repeat_penalty", 0.01, 10) ?? 1f;
            ulong? seed = null;
            if (root.TryGetProperty("seed", out var s) && s.ValueKind != JsonValueKind.Null)
            {
                if (s.ValueKind != JsonValueKind.Number || !s.TryGetInt64(out long sv)) throw OpenAiError.BadRequest("'seed' must be an integer", "seed");
                seed = unchecked((ulong)sv);
            }
            bool stream = Bool(root, "stream") ?? false;
            bool includeUsage = false;
            if (root.TryGetProperty("stream_options", out var so) && so.ValueKind == JsonValueKind.Object)
                includeUsage = Bool(so, "include_usage", "stream_options.include_usage") ?? false;

            var stop = new List<string>();
            if (root.TryGetProperty("stop", out var st))
            {
                if (st.ValueKind == JsonValueKind.String) stop.Add(st.GetString()!);
                else if (st.ValueKind == JsonValueKind.Array)
                {
                    foreach (var e in st.EnumerateArray())
                    {
                        if (e.ValueKind != JsonValueKind.String) throw OpenAiError.BadRequest("'stop' must be a string or an array of strings", "stop");
                        stop.Add(e.GetString()!);
                    }
                }
                else if (st.ValueKind != JsonValueKind.Null) throw OpenAiError.BadRequest("'stop' must be a string or an array of strings", "stop");
                if (stop.Count > MaxStopStrings) throw OpenAiError.BadRequest($"at most {MaxStopStrings} stop sequences are allowed", "stop");
                if (stop.Exists(x => x.Length == 0)) throw OpenAiError.BadRequest("stop sequences must not be empty", "stop");
            }

            return new CompletionRequest
            {
                Model = model,
                Prompt = prompt,
                Messages = messages,
                MaxTokens = maxTokens,
                Temperature = temperature,
                TopP = topP,
                TopK = topK,
                MinP = minP,
                RepeatPenalty = repeat,
                Seed = seed,
                Stream = stream,
                IncludeUsage = includeUsage,
                Stop = stop,
                User = String(root, "user"),
            };
        }
    }

    /// <summary>
    /// The <c>model</c> with the adapters of the optional body field <c>adapters: ["name", …]</c> appended
    /// (<c>base+name+…</c>, docs/adapters.md); a <c>model</c> that names adapters itself must name the same list.
    /// </summary>
    private static string WithAdapters(JsonElement root, string model)
    {
        if (!root.TryGetProperty("adapters", out var a) || a.ValueKind == JsonValueKind.Null) return model;
        const string Shape = "'adapters' must be an array of adapter names or hashes";
        if (a.ValueKind != JsonValueKind.Array) throw OpenAiError.BadRequest(Shape, "adapters");
        if (a.GetArrayLength() > Protocol.Messages.InferenceRequest.MaxAdapters)
            throw OpenAiError.BadRequest($"at most {Protocol.Messages.InferenceRequest.MaxAdapters} adapters are allowed, got {a.GetArrayLength()}", "adapters");
        var names = new List<string>();
        foreach (var e in a.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.String || e.GetString() is not { Length: > 0 } name || name.Contains('+')) throw OpenAiError.BadRequest(Shape, "adapters");
            names.Add(name);
        }
        var (baseName, inModel) = ModelWithAdapters.Split(model);
        if (inModel.Length > 0 && !inModel.SequenceEqual(names, StringComparer.Ordinal))
            throw OpenAiError.BadRequest($"'model' names the adapters '{string.Join('+', inModel)}' but 'adapters' names '{string.Join('+', names)}'; name them in one place, or the same list in both",
                "adapters", "adapters_mismatch");
        return names.Count == 0 ? model : string.Join('+', [baseName, .. names]);
    }

    private static string Content(JsonElement msg, int i)
    {
        if (!msg.TryGetProperty("content", out var c) || c.ValueKind == JsonValueKind.Null) return "";
        if (c.ValueKind == JsonValueKind.String) return c.GetString()!;
        if (c.ValueKind == JsonValueKind.Array)
        {
            // Content parts: only text parts are supported.
            var text = new System.Text.StringBuilder();
            foreach (var part in c.EnumerateArray())
            {
                if (part.ValueKind != JsonValueKind.Object || String(part, "type", $"messages[{i}].content") != "text")
                    throw OpenAiError.BadRequest($"messages[{i}].content: only text content parts are supported", $"messages[{i}].content");
                text.Append(String(part, "text", $"messages[{i}].content") ?? "");
            }
            return text.ToString();
        }
        throw OpenAiError.BadRequest($"messages[{i}].content must be a string or an array of text parts", $"messages[{i}].content");
    }

    private static string? String(JsonElement e, string name, string? param = null)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw OpenAiError.BadRequest($"'{param ?? name}' must be a string", param ?? name);
    }

    private static bool? Bool(JsonElement e, string name, string? param = null)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw OpenAiError.BadRequest($"'{param ?? name}' must be a boolean", param ?? name),
        };
    }

    private static int? Int(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long x)) throw OpenAiError.BadRequest($"'{name}' must be an integer", name);
        if (x is < int.MinValue or > int.MaxValue) throw OpenAiError.BadRequest($"'{name}' {x} is out of range", name);
        return (int)x;
    }

    private static float? Float(JsonElement e, string name, double min, double max)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double x)) throw OpenAiError.BadRequest($"'{name}' must be a number", name);
        if (!(x >= min && x <= max)) throw OpenAiError.BadRequest($"'{name}' {x} is out of range ({min} to {max})", name);
        return (float)x;
    }
}
