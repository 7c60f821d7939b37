using System.Text;

namespace Cairn.Engine.Tokenization;

/// <summary>
/// Byte strings held as .NET strings with one char per byte (Latin-1). The SentencePiece and llama2.c algorithms work
/// on UTF-8 bytes as llama.cpp and run.c do; this keeps their dictionary lookups exact and allocation-free via
/// span lookups.
/// </summary>
internal static class ByteString
{
    public static string FromUtf8Text(string text) => Encoding.Latin1.GetString(Encoding.UTF8.GetBytes(text));

    public static string FromBytes(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    public static byte[] ToBytes(ReadOnlySpan<char> byteString)
    {
        var bytes = new byte[byteString.Length];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)byteString[i];
        return bytes;
    }

    /// <summary>Length of the UTF-8 sequence a lead byte announces, as llama.cpp's <c>unicode_len_utf8</c> (continuation bytes count 1).</summary>
    public static int Utf8Length(char leadByte) => (leadByte >> 4) switch
    {
        0xC or 0xD => 2,
        0xE => 3,
        0xF => 4,
        _ => 1,
    };
}
