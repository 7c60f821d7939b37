using System.Buffers.Binary;
using System.Text;
using Cairn.Engine.Gguf;

namespace Cairn.Engine.Tokenization;

/// <summary>
/// The tokenizer of llama2.c (<c>run.c</c>'s <c>encode</c>/<c>decode</c>), read from its <c>tokenizer.bin</c>:
/// <code>
/// i32 max_token_length
/// vocab_size × { f32 score | i32 len | len bytes (no terminator) }      (vocab_size comes from the model header)
/// </code>
/// Encoding: BOS (1) if asked; the token for " " when the text is not empty; each UTF-8 character's token, or its
/// bytes as ids byte+3; then, while any adjacent pair concatenates to a vocabulary entry, merge the pair whose entry
/// scores highest (first pair on ties). Decoding: "&lt;0xXX&gt;" is the raw byte, and a piece directly after BOS
/// loses its leading space. Ids 1 (BOS) and 2 (EOS), and 0 when it is "&lt;unk&gt;", decode to nothing; generation
/// ends at either 1 or 2 (run.c stops at BOS).
/// </summary>
public sealed class Llama2CTokenizer : Tokenizer
{
    public const int MaxTokenLength = 1 << 16;
    public const int MaxVocabSize = 1 << 24;

    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly string[] _bytes; // each token's bytes, one char per byte
    private readonly int _space;
    private readonly int _maxLength;

    private Llama2CTokenizer(Vocabulary vocabulary, string[] bytes, byte[][] pieces) : base(vocabulary, pieces)
    {
        _bytes = bytes;
        var ids = new Dictionary<string, int>(bytes.Length, StringComparer.Ordinal);
        for (int id = 0; id < bytes.Length; id++) ids.TryAdd(bytes[id], id);
        _lookup = ids.GetAlternateLookup<ReadOnlySpan<char>>();
        _space = ids.TryGetValue(" ", out int space) ? space : -1;
        _maxLength = bytes.Max(b => b.Length);
    }

    internal static Llama2CTokenizer Load(string path, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(path);
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"{path}: no such tokenizer file", path);
        if (vocabSize is < 3 or > MaxVocabSize)
            throw new GgufFormatException($"{path}: vocab_size {vocabSize} is out of range (allowed 3 to {MaxVocabSize})");
        // Each entry takes at least 8 bytes (score and length), so the count is checked before anything is read.
        if (info.Length < 4 + 8L * vocabSize)
            throw new GgufFormatException($"{path}: truncated: {info.Length} bytes cannot hold max_token_length and {vocabSize} tokens (at least {4 + 8L * vocabSize} bytes)");
        if (info.Length > 4 + (8L + MaxTokenLength) * vocabSize)
            throw new GgufFormatException($"{path}: {info.Length} bytes is more than {vocabSize} tokens of at most {MaxTokenLength} bytes can take");

        byte[] data = File.ReadAllBytes(path);
        int maxTokenLength = BinaryPrimitives.ReadInt32LittleEndian(data);
        if (maxTokenLength is < 1 or > MaxTokenLength)
            throw new GgufFormatException($"{path}: max_token_length is {maxTokenLength} (allowed 1 to {MaxTokenLength})");

        var scores = new float[vocabSize];
        var bytes = new string[vocabSize];
        int offset = 4;
        for (int i = 0; i < vocabSize; i++)
        {
            if (data.Length - offset < 8)
                throw new GgufFormatException($"{path}: truncated at token {i} of {vocabSize} (offset {offset}, file {data.Length} bytes)");
            scores[i] = BinaryPrimitives.ReadSingleLittleEndian(data.AsSpan(offset));
            int length = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(offset + 4));
            offset += 8;
            if (length < 0 || length > maxTokenLength)
                throw new GgufFormatException($"{path}: token {i} has length {length} (allowed 0 to max_token_length {maxTokenLength})");
            if (data.Length - offset < length)
                throw new GgufFormatException($"{path}: truncated in token {i}: its {length} bytes run past the end of the file at offset {offset}");
            bytes[i] = ByteString.FromBytes(data.AsSpan(offset, length));
            offset += length;
        }

        var texts = new string[vocabSize];
        var attributes = new TokenAttributes[vocabSize];
        var pieces = new byte[vocabSize][];
        for (int i = 0; i < vocabSize; i++)
        {
            byte[] raw = ByteString.ToBytes(bytes[i]);
            texts[i] = Encoding.UTF8.GetString(raw);
            bool control = i is 1 or 2 || (i == 0 && texts[i].Trim() == "<unk>");
            attributes[i] = control ? TokenAttributes.Control : TokenAttributes.Normal;
            pieces[i] = control ? [] : ParseBytePiece(raw) is byte b ? [b] : raw;
        }

        var vocabulary = new Vocabulary { Texts = texts, Scores = scores, Attributes = attributes, BosId = 1, EosId = 2, AddBos = true };
        vocabulary.EndOfGeneration.Add(1);
        vocabulary.EndOfGeneration.Add(2);
        if (texts[0].Trim() == "<unk>") vocabulary.UnkId = 0;
        return new Llama2CTokenizer(vocabulary, bytes, pieces);
    }

    /// <summary>run.c's <c>sscanf(piece, "&lt;0x%02hhX&gt;", …)</c>: "&lt;0x" then one or two hex digits.</summary>
    private static byte? ParseBytePiece(ReadOnlySpan<byte> raw)
    {
        if (raw.Length < 4 || raw[0] != '<' || raw[1] != '0' || raw[2] != 'x') return null;
        int digits = raw.Length > 4 && Uri.IsHexDigit((char)raw[4]) ? 2 : 1;
        if (!Uri.IsHexDigit((char)raw[3])) return null;
        return (byte)Convert.ToInt32(Encoding.ASCII.GetString(raw.Slice(3, digits)), 16);
    }

    /// <summary>run.c strips the leading space only after BOS.</summary>
    private protected override bool StripsLeadingSpace(int previous, bool first) => previous == 1;

    /// <summary>Tokenizes as run.c's <c>encode</c>. llama2.c has no special tokens, so <paramref name="parseSpecial"/> has no effect.</summary>
    public override int[] Encode(string text, bool addBos, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        string bytes = ByteString.FromUtf8Text(text);
        var tokens = new List<int>(bytes.Length + 2);
        if (addBos) tokens.Add(1);
        if (bytes.Length > 0 && _space >= 0) tokens.Add(_space);

        int start = 0;
        for (int i = 0; i < bytes.Length; i++)
        {
            if ((bytes[i] & 0xC0) != 0x80) start = i;
            // Keep reading while the next byte continues this character (at most 4 bytes).
            if (i + 1 < bytes.Length && (bytes[i + 1] & 0xC0) == 0x80 && i + 1 - start < 4) continue;
            ReadOnlySpan<char> character = bytes.AsSpan(start, i + 1 - start);
            if (_lookup.TryGetValue(character, out int id))
            {
                tokens.Add(id);
            }
            else
            {
                foreach (char b in character) tokens.Add(b + 3 < VocabSize ? b + 3 : Math.Max(Vocabulary.UnkId, 0));
            }
            start = i + 1;
        }

        char[] pair = new char[2 * _maxLength];
        while (true)
        {
            float bestScore = -1e10f;
            int bestId = -1, bestIndex = -1;
            for (int i = 0; i + 1 < tokens.Count; i++)
            {
                string a = _bytes[tokens[i]], b = _bytes[tokens[i + 1]];
                a.CopyTo(pair);
                b.CopyTo(pair.AsSpan(a.Length));
                if (_lookup.TryGetValue(pair.AsSpan(0, a.Length + b.Length), out int id) && Vocabulary.Scores[id] > bestScore)
                {
                    bestScore = Vocabulary.Scores[id];
                    bestId = id;
                    bestIndex = i;
                }
            }
            if (bestIndex == -1) break;
            tokens[bestIndex] = bestId;
            tokens.RemoveAt(bestIndex + 1);
        }
        return [.. tokens];
    }
}
