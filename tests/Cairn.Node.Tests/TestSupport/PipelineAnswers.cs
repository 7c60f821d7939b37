using System.Text.Json;
using Cairn.Engine.Generation;
using Cairn.Engine.Inference;
using Cairn.Engine.Models;
using Cairn.Engine.Sampling;
using Cairn.Protocol.Messages;
using Xunit.Abstractions;

namespace Cairn.Node.Tests.TestSupport;

/// <summary>Checks a pipelined answer against a single process (PipelineTests, PlannedPipelineTests).</summary>
public static class PipelineAnswers
{
    /// <summary>
    /// The receipt's request, run in this process on the whole model exactly as a provider runs it: the same tokens
    /// (through the text and the output commitment, which hashes the token ids) and the same trace root.
    /// </summary>
    public static async Task AssertSingleProcess(Devnet net, string modelPath, string id, string text, ITestOutputHelper output)
    {
        using var doc = JsonDocument.Parse(await net.Http.GetStringAsync($"/v1/receipts/{id}"));
        var r = doc.RootElement;
        Assert.True(InferenceRequest.TryDecode(Convert.FromHexString(r.GetProperty("request_hex").GetString()!), out var request, out _));
        using var model = Model.Load(modelPath);
        var result = new Generator(new Transformer(model, 2)).Generate(request!.PromptTokens.ToArray(), new GenerationOptions
        {
            MaxTokens = Math.Min(request.MaxTokens, model.Config.ContextLength - request.PromptTokens.Count),
            Commitment = true,
            Sampling = new SamplingOptions
            {
                Temperature = request.Sampling.Temperature,
                TopK = request.Sampling.TopK,
                TopP = request.Sampling.TopP,
                MinP = request.Sampling.MinP,
                RepeatPenalty = request.Sampling.RepeatPenalty,
                RepeatLastN = request.Sampling.RepeatLastN,
                Seed = request.Seed,
            },
        });
        output.WriteLine($"{id}: {result.Tokens.Length} tokens, commitment {Convert.ToHexStringLower(result.OutputCommitment!)}");
        Assert.Equal(Convert.ToHexStringLower(result.OutputCommitment!), r.GetProperty("output_commitment").GetString()!.Replace("0x", "", StringComparison.Ordinal));
        Assert.Equal(Convert.ToHexStringLower(result.TraceRoot!), r.GetProperty("trace_root").GetString()!.Replace("0x", "", StringComparison.Ordinal));
        Assert.Equal(result.Tokens.Length, r.GetProperty("completion_tokens").GetInt32());
        var tokenizer = model.Tokenizer!;
        var decoder = new Cairn.Engine.Tokenization.StreamingDecoder(tokenizer);
        string expected = string.Concat(result.Tokens.Where(t => !tokenizer.IsEndOfGeneration(t)).Select(decoder.Push)) + decoder.Flush();
        Assert.Equal(expected, text);
    }

    private static string Body(string model, float temperature, ulong seed, bool stream) => JsonSerializer.Serialize(new
    {
        model,
        prompt = "Once upon a time",
        max_tokens = 48,
        temperature,
        seed,
        top_k = 40,
        stream,
    });

    /// <summary>Posts a completion of 48 tokens (top-k 40); with streaming, runs <paramref name="firstPiece"/> once the first text arrives. Returns the text and the id.</summary>
    public static async Task<(string Text, string Id)> Complete(Devnet net, string model, float temperature, ulong seed, bool stream, Func<Task>? firstPiece = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(Body(model, temperature, seed, stream), System.Text.Encoding.UTF8, "application/json") };
        using var response = await net.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        string? error = response.IsSuccessStatusCode ? null : await response.Content.ReadAsStringAsync();
        Assert.True(error is null, error + "\n" + net.Logs());
        if (!stream)
        {
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return (doc.RootElement.GetProperty("choices")[0].GetProperty("text").GetString()!, doc.RootElement.GetProperty("id").GetString()!);
        }
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var text = new System.Text.StringBuilder();
        string? id = null;
        bool done = false;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            string data = line["data: ".Length..];
            if (data == "[DONE]")
            {
                done = true;
                break;
            }
            using var doc = JsonDocument.Parse(data);
            Assert.False(doc.RootElement.TryGetProperty("error", out var e), e.ToString() + "\n" + net.Logs());
            id = doc.RootElement.GetProperty("id").GetString();
            string piece = doc.RootElement.GetProperty("choices")[0].GetProperty("text").GetString()!;
            if (piece.Length > 0 && firstPiece != null)
            {
                await firstPiece();
                firstPiece = null;
            }
            text.Append(piece);
        }
        Assert.True(done, "the stream ended without [DONE]\n" + net.Logs());
        return (text.ToString(), id!);
    }
}
