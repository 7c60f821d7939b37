using Cairn.Engine.Generation;
using Cairn.Engine.Inference;
using Cairn.Engine.Models;
using Cairn.Engine.Tests.TestSupport;

namespace Cairn.Engine.Tests.Conformance;

/// <summary>
/// The real trained model aidreams260K must reproduce the greedy text of llama2.c's run.c (128 steps including the
/// prompt, stopping at seq_len) exactly, from the llama2.c checkpoint and from llama.cpp's GGUF conversion.
/// </summary>
public sealed class Llama2CReferenceTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string format in new[] { "bin", "gguf" })
        {
            foreach (string prompt in new[] { "I dreamed", "The machine", "Once upon a time", "In the quiet" }) data.Add(format, prompt);
        }
        return data;
    }

    private static Dictionary<string, string> Expected()
    {
        var result = new Dictionary<string, string>();
        string text = File.ReadAllText(ReferenceData.Model("aidreams260K.greedy128.runc.txt")).Replace("\r\n", "\n");
        foreach (string section in text.Split("=== prompt: ", StringSplitOptions.RemoveEmptyEntries))
        {
            int newline = section.IndexOf('\n');
            result[section[..newline]] = section[(newline + 1)..].TrimEnd('\n');
        }
        return result;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Greedy_text_equals_llama2c_run_c(string format, string prompt)
    {
        using var model = format == "bin"
            ? Model.Load(ReferenceData.Model("aidreams260K.bin"), ReferenceData.Model("tok512.bin"))
            : Model.Load(ReferenceData.Model("aidreams260K.gguf"));
        Assert.Equal(128, model.Config.ContextLength);
        var tok = model.Tokenizer!;
        int[] ids = tok.Encode(prompt, addBos: true);
        var result = new Generator(new Transformer(model, 2)).Generate(ids,
            new GenerationOptions { MaxTokens = 1000, Sampling = Engine.Sampling.SamplingOptions.Greedy, StopAtEndOfGeneration = false });
        Assert.Equal("context", result.StopReason);
        Assert.Equal(128 - ids.Length + 1, result.Tokens.Length);
        string text = tok.Decode(ids.Concat(result.Tokens).ToArray()); // BOS first, as run.c decodes: the space after BOS is dropped
        Assert.Equal(Expected()[prompt], text);
    }
}
