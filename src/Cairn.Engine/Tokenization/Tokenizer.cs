using System.Text;
using Cairn.Engine.Gguf;

namespace Cairn.Engine.Tokenization;

/// <summary>
/// Text ↔ token ids for a model's vocabulary. Tokenization matches llama.cpp's (<c>llama-vocab.cpp</c>) token for token;
/// see <see cref="SentencePieceTokenizer"/>, <see cref="BpeTokenizer"/> and <see cref="Llama2CTokenizer"/>.
/// Instances are immutable and safe to share between threads.
/// </summary>
public abstract partial class Tokenizer
{
    private readonly byte[][] _pieces;

    private protected Tokenizer(Vocabulary vocabulary, byte[][] pieces)
    {
        Vocabulary = vocabulary;
        _pieces = pieces;
    }

    private protected Vocabulary Vocabulary { get; }

    public int VocabSize => Vocabulary.Count;

    /// <summary>Beginning-of-sequence id, or -1 when the vocabulary has none.</summary>
    public int BosId => Vocabulary.BosId;

    /// <summary>End-of-sequence id, or -1 when the vocabulary has none.</summary>
    public int EosId => Vocabulary.EosId;

    /// <summary>End-of-turn id (<c>&lt;|eot_id|&gt;</c>, <c>&lt;|im_end|&gt;</c>, …) when the vocabulary has one.</summary>
    public int? EotId => Vocabulary.EotId;

    /// <summary>Whether prompts for this model start with BOS (<c>tokenizer.ggml.add_bos_token</c>, else llama.cpp's default for the model type).</summary>
    public bool AddBos => Vocabulary.AddBos;

    /// <summary>Whether text gets a leading space before tokenizing (SentencePiece's dummy prefix); decoding removes it again.</summary>
    public bool AddSpacePrefix => Vocabulary.AddSpacePrefix;

    /// <summary>EOS, EOT, EOM and the other tokens llama.cpp treats as ending generation.</summary>
    public bool IsEndOfGeneration(int token) => Vocabulary.EndOfGeneration.Contains(token);

    /// <summary>Tokenizes <paramref name="text"/>. <paramref name="addBos"/> prepends BOS; <paramref name="parseSpecial"/> turns control-token texts such as <c>&lt;|im_end|&gt;</c> into their ids (user-defined tokens are always recognised, as in llama.cpp).</summary>
    public abstract int[] Encode(string text, bool addBos, bool parseSpecial = false);

    /// <summary>The raw vocabulary string of a token.</summary>
    public string TokenText(int id) => Vocabulary.Texts[CheckId(id)];

    /// <summary>The bytes this token contributes to decoded text (control and unknown tokens contribute none).</summary>
    public byte[] TokenBytes(int id) => (byte[])_pieces[CheckId(id)].Clone();

    /// <summary>
    /// Decodes a whole sequence to text. Invalid UTF-8 becomes U+FFFD. Where the tokenizer adds a space prefix, the
    /// leading space of the first piece, and of a piece directly after BOS, is removed, so that decoding inverts
    /// <see cref="Encode"/>. llama.cpp's optional "clean spaces" rewrite for BPE vocabularies is not applied: decoding stays lossless.
    /// </summary>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var bytes = new List<byte>(ids.Length * 4);
        for (int i = 0; i < ids.Length; i++) bytes.AddRange(Piece(ids[i], i == 0 ? -1 : ids[i - 1], i == 0));
        return Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));
    }

    /// <summary>The bytes of <paramref name="id"/> in context: after <paramref name="previous"/> (-1 for none), <paramref name="first"/> when it opens the text.</summary>
    internal ReadOnlySpan<byte> Piece(int id, int previous, bool first)
    {
        ReadOnlySpan<byte> piece = _pieces[CheckId(id)];
        if (piece.Length > 0 && piece[0] == (byte)' ' && StripsLeadingSpace(previous, first)) piece = piece[1..];
        return piece;
    }

    /// <summary>Whether a piece's leading space is dropped at this position (SentencePiece's dummy prefix).</summary>
    private protected virtual bool StripsLeadingSpace(int previous, bool first) =>
        AddSpacePrefix && (first || (previous == BosId && previous >= 0));

    private protected ReadOnlySpan<byte> RawPiece(int id) => _pieces[id];

    private int CheckId(int id)
    {
        if ((uint)id >= (uint)Vocabulary.Count)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"token id {id} is outside the vocabulary (0 to {Vocabulary.Count - 1})");
        return id;
    }

    /// <summary>Picks the tokenizer named by <c>tokenizer.ggml.model</c>: "llama" (SentencePiece) or "gpt2" (byte-level BPE).</summary>
    public static Tokenizer FromGguf(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        string model = file.TryGetString("tokenizer.ggml.model")
            ?? throw new GgufFormatException($"{file.Path}: required metadata 'tokenizer.ggml.model' is missing");
        return model switch
        {
            "llama" => SentencePieceTokenizer.Load(file),
            "gpt2" => BpeTokenizer.Load(file),
            _ => throw new GgufFormatException($"{file.Path}: 'tokenizer.ggml.model' is \"{model}\"; supported are \"llama\" (SentencePiece) and \"gpt2\" (byte-level BPE)"),
        };
    }

    /// <summary>Reads a llama.cpp-compatible tokenizer from llama2.c's <c>tokenizer.bin</c>; see <see cref="Llama2CTokenizer"/>.</summary>
    public static Tokenizer FromLlama2C(string tokenizerBinPath, int vocabSize) => Llama2CTokenizer.Load(tokenizerBinPath, vocabSize);
}
