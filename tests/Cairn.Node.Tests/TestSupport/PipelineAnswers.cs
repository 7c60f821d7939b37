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
}
