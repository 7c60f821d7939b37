using System.Text;

namespace Cairn.Engine.Tokenization;

/// <summary>
/// Decodes generated tokens one at a time without ever emitting half a UTF-8 character: bytes of an incomplete
/// sequence are held until the token that completes them arrives. The concatenated results of
/// <see cref="Push"/> and <see cref="Flush"/> equal <see cref="Tokenizer.Decode"/> of the same tokens when the
/// sequence starts with BOS, or always when constructed with <c>startOfText: true</c>.
/// Not thread-safe: one instance per stream.
/// </summary>
public sealed class StreamingDecoder
{
    private readonly Tokenizer _tokenizer;
    private readonly Decoder _utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
    private readonly char[] _chars = new char[256];
    private int _previous = -1;
    private bool _first;

    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="startOfText">True when the first pushed token opens the text, so that a space-prefix tokenizer drops its leading space
    /// (as <see cref="Tokenizer.Decode"/> does); false (the default) for continuing after a prompt. A piece after BOS loses its leading space either way.</param>
    public StreamingDecoder(Tokenizer tokenizer, bool startOfText = false)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _tokenizer = tokenizer;
        _first = startOfText;
    }

    /// <summary>Adds one token; returns the text now complete (possibly empty).</summary>
    public string Push(int token)
    {
        ReadOnlySpan<byte> piece = _tokenizer.Piece(token, _previous, _first);
        _previous = token;
        _first = false;
        return Convert(piece, flush: false);
    }

    /// <summary>Returns whatever is held back; bytes that never completed a character become U+FFFD. The decoder can then start a new stream.</summary>
    public string Flush() => Convert([], flush: true);

    private string Convert(ReadOnlySpan<byte> bytes, bool flush)
    {
        int count = _utf8.GetCharCount(bytes, flush);
        Span<char> chars = count <= _chars.Length ? _chars : new char[count];
        int written = _utf8.GetChars(bytes, chars, flush);
        return written == 0 ? "" : new string(chars[..written]);
    }
}
