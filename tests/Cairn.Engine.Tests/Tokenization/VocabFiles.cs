using Cairn.Engine.Gguf;
using Cairn.Engine.Tests.TestSupport;

namespace Cairn.Engine.Tests.Tokenization;

/// <summary>
/// Opens llama.cpp's vocabulary-only GGUF files. Those files hold no tensors and end right after the metadata, without
/// the padding to <c>general.alignment</c> that <see cref="GgufFile"/> currently requires even when there is no tensor
/// data; until the reader accepts that, tests open a copy padded with zeros (the content read is identical).
/// </summary>
internal static class VocabFiles
{
    private static readonly Lock s_gate = new();

    public static GgufFile Open(string vocabName)
    {
        string path = ReferenceData.Vocab(vocabName);
        try
        {
            return GgufFile.Open(path);
        }
        catch (GgufFormatException e) when (e.Message.Contains("tensor data would start", StringComparison.Ordinal))
        {
            return GgufFile.Open(PaddedCopy(path));
        }
    }

    private static string PaddedCopy(string path)
    {
        string copy = Path.Combine(Path.GetTempPath(), $"cairn-vocab-{Environment.ProcessId}-{Path.GetFileName(path)}");
        lock (s_gate)
        {
            if (!File.Exists(copy))
            {
                byte[] data = File.ReadAllBytes(path);
                Array.Resize(ref data, (data.Length + 255) / 256 * 256);
                File.WriteAllBytes(copy + ".tmp", data);
                File.Move(copy + ".tmp", copy, overwrite: true);
            }
        }
        return copy;
    }
}
