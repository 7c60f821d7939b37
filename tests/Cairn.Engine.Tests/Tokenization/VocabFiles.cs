using Cairn.Engine.Gguf;
using Cairn.Engine.Tests.TestSupport;

namespace Cairn.Engine.Tests.Tokenization;

/// <summary>Opens llama.cpp's vocabulary-only GGUF files (no tensors, no trailing padding) from ../shared/reference/vocab.</summary>
internal static class VocabFiles
{
    public static GgufFile Open(string vocabName) => GgufFile.Open(ReferenceData.Vocab(vocabName));
}
