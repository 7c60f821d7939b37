using System.Text;
using Cairn.Engine.Gguf;

namespace Cairn.Engine.Tokenization;

/// <summary>
/// SentencePiece BPE (<c>tokenizer.ggml.model = "llama"</c>) as llama.cpp's <c>llm_tokenizer_spm_session</c>:
/// spaces become U+2581 ("▁") and a "▁" is prefixed to each text fragment that opens the input or follows a special
/// token (when <c>add_space_prefix</c>); the UTF-8 characters are then merged pairwise, always the adjacent pair
/// whose concatenation is the vocabulary token with the highest score (ties: leftmost); a piece left that is no
/// token falls back to its bytes as <c>&lt;0xXX&gt;</c> tokens.
/// </summary>
public sealed class SentencePieceTokenizer : Tokenizer
{
    private readonly Dictionary<string, int> _ids; // key: UTF-8 bytes of the token text, one char per byte
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly int[] _byteTokens;

    private SentencePieceTokenizer(Vocabulary vocabulary) : base(vocabulary, BuildPieces(vocabulary))
    {
        _ids = new Dictionary<string, int>(vocabulary.Count, StringComparer.Ordinal);
        for (int id = 0; id < vocabulary.Count; id++) _ids.TryAdd(ByteString.FromUtf8Text(vocabulary.Texts[id]), id);
        _lookup = _ids.GetAlternateLookup<ReadOnlySpan<char>>();
        _byteTokens = new int[256];
        for (int b = 0; b < 256; b++)
        {
            if (!_ids.TryGetValue($"<0x{b:X2}>", out int id) && !_ids.TryGetValue(((char)b).ToString(), out id)) id = vocabulary.UnkId;
            _byteTokens[b] = id;
        }
    }

    internal static SentencePieceTokenizer Load(GgufFile file) =>
        new(Vocabulary.FromGguf(file, sentencePiece: true, addBosDefault: true));

    public override int[] Encode(string text, bool addBos, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var output = new List<int>();
        if (addBos && BosId >= 0) output.Add(BosId);
        bool previousSpecial = true;
        foreach (Fragment fragment in SpecialTokenSplitter.Split(Vocabulary, text, parseSpecial))
        {
            if (!fragment.IsText)
            {
                output.Add(fragment.Token);
                previousSpecial = true;
                continue;
            }
            string piece = text.Substring(fragment.Start, fragment.Length);
            if (AddSpacePrefix && previousSpecial) piece = " " + piece;
            TokenizeFragment(ByteString.FromUtf8Text(piece.Replace(' ', '\u2581')), output);
            previousSpecial = false;
        }
        return [.. output];
    }

    private struct Symbol
    {
        public int Prev, Next, Start, Length;
    }

    private readonly record struct Bigram(int Left, int Right, float Score, int Size);

    private sealed class BigramOrder : IComparer<Bigram>
    {
        public static readonly BigramOrder Instance = new();

        // Highest score first; on equal scores the leftmost pair.
        public int Compare(Bigram a, Bigram b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Left.CompareTo(b.Left);
    }

    /// <summary>One fragment, already escaped, as a byte string.</summary>
    private void TokenizeFragment(string bytes, List<int> output)
    {
        var symbols = new List<Symbol>();
        for (int offset = 0; offset < bytes.Length;)
        {
            int length = Math.Min(ByteString.Utf8Length(bytes[offset]), bytes.Length - offset);
            int index = symbols.Count;
            symbols.Add(new Symbol { Prev = index - 1, Next = offset + length == bytes.Length ? -1 : index + 1, Start = offset, Length = length });
            offset += length;
        }

        var queue = new PriorityQueue<Bigram, Bigram>(BigramOrder.Instance);
        for (int i = 1; i < symbols.Count; i++) TryAddBigram(i - 1, i);

        while (queue.TryDequeue(out Bigram bigram, out _))
        {
            Symbol left = symbols[bigram.Left], right = symbols[bigram.Right];
            if (left.Length == 0 || right.Length == 0 || left.Length + right.Length != bigram.Size) continue;
            left.Length += right.Length;
            left.Next = right.Next;
            right.Length = 0;
            if (right.Next >= 0)
            {
                Symbol after = symbols[right.Next];
                after.Prev = bigram.Left;
                symbols[right.Next] = after;
            }
            symbols[bigram.Left] = left;
            symbols[bigram.Right] = right;
            TryAddBigram(left.Prev, bigram.Left);
            TryAddBigram(bigram.Left, left.Next);
        }

        for (int i = symbols.Count == 0 ? -1 : 0; i != -1; i = symbols[i].Next)
        {
            ReadOnlySpan<char> text = bytes.AsSpan(symbols[i].Start, symbols[i].Length);
            if (_lookup.TryGetValue(text, out int id))
            {
                output.Add(id);
                continue;
            }
            foreach (char b in text)
            {
                int byteToken = _byteTokens[(byte)b];
                if (byteToken >= 0) output.Add(byteToken);
            }
        }

        void TryAddBigram(int left, int right)
        {
            if (left == -1 || right == -1) return;
            int size = symbols[left].Length + symbols[right].Length;
            if (!_lookup.TryGetValue(bytes.AsSpan(symbols[left].Start, size), out int id)) return;
            var bigram = new Bigram(left, right, Vocabulary.Scores[id], size);
            queue.Enqueue(bigram, bigram);
        }
    }

    /// <summary>llama.cpp's <c>token_to_piece</c> without special rendering: control/unknown/unused → nothing, user-defined → text, normal → text with "▁" → " ", byte → the byte.</summary>
    private static byte[][] BuildPieces(Vocabulary v)
    {
        var pieces = new byte[v.Count][];
        for (int id = 0; id < v.Count; id++)
        {
            TokenAttributes attr = v.Attributes[id];
            string text = v.Texts[id];
            if ((attr & (TokenAttributes.Control | TokenAttributes.Unknown)) != 0) pieces[id] = [];
            else if ((attr & TokenAttributes.UserDefined) != 0) pieces[id] = Encoding.UTF8.GetBytes(text);
            else if ((attr & TokenAttributes.Normal) != 0) pieces[id] = Encoding.UTF8.GetBytes(text.Replace('\u2581', ' '));
            else if ((attr & TokenAttributes.Byte) != 0) pieces[id] = ParseByteToken(text) is byte b ? [b] : [];
            else pieces[id] = [];
        }
        return pieces;
    }

    /// <summary>"&lt;0xAB&gt;" → 0xAB.</summary>
    internal static byte? ParseByteToken(string text) =>
        text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal) && text[5] == '>'
            && byte.TryParse(text.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out byte b) ? b : null;
}
