using System.Text;
using Cairn.Engine.Gguf;
using Cairn.Engine.Tests.TestSupport;
using Cairn.Engine.Tokenization;

namespace Cairn.Engine.Tests.Tokenization;

/// <summary>llama.cpp's tokenizer test vectors (tests/test-tokenizer-0): every input, no BOS, parse_special off.</summary>
public sealed class VocabConformanceTests
{
    public static TheoryData<string> ReferenceVocabs => new(
        "ggml-vocab-llama-spm.gguf", "ggml-vocab-phi-3.gguf", "ggml-vocab-gpt-2.gguf", "ggml-vocab-falcon.gguf",
        "ggml-vocab-starcoder.gguf", "ggml-vocab-deepseek-llm.gguf", "ggml-vocab-deepseek-coder.gguf",
        "ggml-vocab-mpt.gguf", "ggml-vocab-refact.gguf");

    /// <summary>Inputs are separated by "\n__ggml_vocab_test__\n" (the file ends with one); outputs are one line of ids each.</summary>
    internal static List<(string Input, int[] Expected)> ReadCases(string vocabPath)
    {
        string raw = File.ReadAllText(vocabPath + ".inp", new UTF8Encoding(false));
        const string separator = "\n__ggml_vocab_test__\n";
        var inputs = new List<string>();
        for (int pos = 0; pos < raw.Length;)
        {
            int next = raw.IndexOf(separator, pos, StringComparison.Ordinal);
            if (next < 0) { inputs.Add(raw[pos..]); break; }
            inputs.Add(raw[pos..next]);
            pos = next + separator.Length;
        }
        string[] lines = File.ReadAllLines(vocabPath + ".out");
        Assert.Equal(inputs.Count, lines.Length);
        return [.. inputs.Select((input, i) => (input, lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray()))];
    }

    [Theory]
    [MemberData(nameof(ReferenceVocabs))]
    public void Every_test_input_tokenizes_exactly_as_llama_cpp(string vocab)
    {
        string path = ReferenceData.Vocab(vocab);
        using var file = VocabFiles.Open(vocab);
        Tokenizer tokenizer = Tokenizer.FromGguf(file);
        var failures = new List<string>();
        foreach (var (input, expected) in ReadCases(path))
        {
            int[] actual = tokenizer.Encode(input, addBos: false, parseSpecial: false);
            if (!actual.SequenceEqual(expected))
                failures.Add($"'{input}'\n  expected {string.Join(' ', expected)}\n  actual   {string.Join(' ', actual)}");
        }
        Assert.True(failures.Count == 0, $"{vocab}: {failures.Count} inputs differ:\n" + string.Join('\n', failures));
    }

    [Theory]
    [MemberData(nameof(ReferenceVocabs))]
    public void Decoding_the_reference_ids_gives_back_the_input(string vocab)
    {
        string path = ReferenceData.Vocab(vocab);
        using var file = VocabFiles.Open(vocab);
        Tokenizer tokenizer = Tokenizer.FromGguf(file);
        var failures = new List<string>();
        foreach (var (input, expected) in ReadCases(path))
        {
            string decoded = tokenizer.Decode(expected);
            if (decoded != input) failures.Add($"'{input}' decoded as '{decoded}'");
        }
        Assert.True(failures.Count == 0, $"{vocab}: {failures.Count} inputs do not round-trip:\n" + string.Join('\n', failures));
    }
}
