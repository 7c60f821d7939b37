using System.Text;
using Cairn.Engine.Gguf;

namespace Cairn.Engine.Tokenization;

/// <summary>
/// Byte-level BPE (<c>tokenizer.ggml.model = "gpt2"</c>) as llama.cpp's <c>llm_tokenizer_bpe_session</c>: the text is
/// split into words by the <see cref="Tokenization.PreTokenizer"/> named in <c>tokenizer.ggml.pre</c>, each word's UTF-8
/// bytes are mapped to GPT-2's byte characters, and adjacent symbols are merged lowest merge rank first (ties:
/// leftmost) using <c>tokenizer.ggml.merges</c> ("left right", rank = position). With <c>ignore_merges</c> (Llama 3) a
/// word that is itself a token is taken whole.
/// </summary>
public sealed class BpeTokenizer : Tokenizer
{
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _ids;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _ranks; // key: left + '\0' + right
    private readonly bool _ignoreMerges;

    private BpeTokenizer(Vocabulary vocabulary, Dictionary<string, int> ranks, PreTokenizer preTokenizer, bool ignoreMerges)
        : base(vocabulary, BuildPieces(vocabulary))
    {
        var ids = new Dictionary<string, int>(vocabulary.Count, StringComparer.Ordinal);
        for (int id = 0; id < vocabulary.Count; id++) ids.TryAdd(vocabulary.Texts[id], id);
        _ids = ids.GetAlternateLookup<ReadOnlySpan<char>>();
        _ranks = ranks.GetAlternateLookup<ReadOnlySpan<char>>();
        PreTokenizer = preTokenizer;
        _ignoreMerges = ignoreMerges;
    }

    /// <summary>The word splitter; <see cref="PreTokenizer.IsFallback"/> tells whether the file's <c>tokenizer.ggml.pre</c> was unknown.</summary>
    public PreTokenizer PreTokenizer { get; }

    internal static BpeTokenizer Load(GgufFile file)
    {
        string pre = file.TryGetString("tokenizer.ggml.pre") ?? "";
        var preTokenizer = PreTokenizer.ForName(pre);
        bool llama3 = PreTokenizer.IsLlama3Family(pre);
        var vocabulary = Vocabulary.FromGguf(file, sentencePiece: false, addBosDefault: llama3 || pre is "tekken" or "chameleon");
        if (pre is "glm4" or "chatglm-bpe" && file.TryGetInteger("tokenizer.ggml.bos_token_id") is null) vocabulary.BosId = -1;

        string[] merges = file.TryGetArray<string>("tokenizer.ggml.merges")
            ?? throw new GgufFormatException($"{file.Path}: required metadata 'tokenizer.ggml.merges' is missing (a \"gpt2\" tokenizer needs its merges)");
        var ranks = new Dictionary<string, int>(merges.Length, StringComparer.Ordinal);
        for (int i = 0; i < merges.Length; i++)
        {
            string merge = merges[i] ?? "";
            int space = merge.Length > 1 ? merge.IndexOf(' ', 1) : -1;
            string key = space < 0 ? "\0" : string.Concat(merge.AsSpan(0, space), "\0", merge.AsSpan(space + 1));
            ranks.TryAdd(key, i);
        }
        return new BpeTokenizer(vocabulary, ranks, preTokenizer, ignoreMerges: llama3 || pre is "tekken" or "youtu");
    }

    public override int[] Encode(string text, bool addBos, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var output = new List<int>();
        if (addBos && BosId >= 0) output.Add(BosId);
        foreach (Fragment fragment in SpecialTokenSplitter.Split(Vocabulary, text, parseSpecial))
        {
            if (!fragment.IsText)
            {
                output.Add(fragment.Token);
                continue;
            }
            foreach (string word in PreTokenizer.Split(text.Substring(fragment.Start, fragment.Length)))
            {
                TokenizeWord(ByteLevel.Encode(Encoding.UTF8.GetBytes(word)), output);
            }
        }
        return [.. output];
    }

    private struct Symbol
    {
        public int Prev, Next, Start, Length;
    }

    private readonly record struct Bigram(int Left, int Right, int Rank, int Size);

    private sealed class BigramOrder : IComparer<Bigram>
    {
        public static readonly BigramOrder Instance = new();

        // Lowest rank first; on equal ranks the leftmost pair.
        public int Compare(Bigram a, Bigram b) => a.Rank != b.Rank ? a.Rank.CompareTo(b.Rank) : a.Left.CompareTo(b.Left);
    }

    private void TokenizeWord(string word, List<int> output)
    {
        if (_ignoreMerges && _ids.TryGetValue(word, out int whole))
        {
            output.Add(whole);
            return;
        }

        // Byte-level characters are all in the BMP: one symbol per char.
        var symbols = new Symbol[word.Length];
        for (int i = 0; i < word.Length; i++) symbols[i] = new Symbol { Prev = i - 1, Next = i + 1 == word.Length ? -1 : i + 1, Start = i, Length = 1 };

        var key = new char[word.Length + 1];
        var queue = new PriorityQueue<Bigram, Bigram>(BigramOrder.Instance);
        for (int i = 1; i < symbols.Length; i++) TryAddBigram(i - 1, i);

        while (queue.TryDequeue(out Bigram bigram, out _))
        {
            ref Symbol left = ref symbols[bigram.Left];
            ref Symbol right = ref symbols[bigram.Right];
            if (left.Length == 0 || right.Length == 0 || left.Length + right.Length != bigram.Size) continue;
            left.Length += right.Length;
            right.Length = 0;
            left.Next = right.Next;
            if (right.Next >= 0) symbols[right.Next].Prev = bigram.Left;
            TryAddBigram(left.Prev, bigram.Left);
            TryAddBigram(bigram.Left, left.Next);
        }

        for (int i = symbols.Length == 0 ? -1 : 0; i != -1; i = symbols[i].Next)
        {
            ReadOnlySpan<char> text = word.AsSpan(symbols[i].Start, symbols[i].Length);
            if (_ids.TryGetValue(text, out int id))
            {
                output.Add(id);
                continue;
            }
            // As llama.cpp: each UTF-8 byte of the piece that is itself a token (only ASCII can be).
            foreach (char c in text)
            {
                if (c < 0x80 && _ids.TryGetValue([c], out int single)) output.Add(single);
            }
        }

        void TryAddBigram(int left, int right)
        {
            if (left == -1 || right == -1) return;
            Symbol l = symbols[left], r = symbols[right];
            word.AsSpan(l.Start, l.Length).CopyTo(key);
            key[l.Length] = '\0';
            word.AsSpan(r.Start, r.Length).CopyTo(key.AsSpan(l.Length + 1));
            if (!_ranks.TryGetValue(key.AsSpan(0, l.Length + 1 + r.Length), out int rank)) return;
            var bigram = new Bigram(left, right, rank, l.Length + r.Length);
            queue.Enqueue(bigram, bigram);
        }
    }

    /// <summary>llama.cpp's <c>token_to_piece</c> without special rendering: control/unknown → nothing, user-defined → its text, normal → GPT-2 byte characters mapped back to bytes (a character outside the mapping keeps its UTF-8).</summary>
    private static byte[][] BuildPieces(Vocabulary v)
    {
        var pieces = new byte[v.Count][];
        var buffer = new List<byte>();
        Span<byte> utf8 = stackalloc byte[4];
        for (int id = 0; id < v.Count; id++)
        {
            TokenAttributes attr = v.Attributes[id];
            string text = v.Texts[id];
            if ((attr & (TokenAttributes.Control | TokenAttributes.Unknown)) != 0) pieces[id] = [];
            else if ((attr & TokenAttributes.UserDefined) != 0) pieces[id] = Encoding.UTF8.GetBytes(text);
            else if ((attr & TokenAttributes.Normal) != 0)
            {
                buffer.Clear();
                foreach (Rune rune in text.EnumerateRunes())
                {
                    if (rune.IsBmp && ByteLevel.TryDecode((char)rune.Value, out byte b)) buffer.Add(b);
                    else buffer.AddRange(utf8[..rune.EncodeToUtf8(utf8)]);
                }
                pieces[id] = [.. buffer];
            }
            else pieces[id] = [];
        }
        return pieces;
    }
}
