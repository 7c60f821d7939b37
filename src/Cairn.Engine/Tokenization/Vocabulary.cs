namespace Cairn.Engine.Tokenization;

/// <summary>
/// The token table shared by all tokenizers: texts, scores, attributes, special ids, end-of-generation set and the
/// special-token list used to split text before tokenizing (llama.cpp's <c>cache_special_tokens</c>).
/// </summary>
internal sealed partial class Vocabulary
{
    public required string[] Texts { get; init; }
    public required float[] Scores { get; init; }
    public required TokenAttributes[] Attributes { get; init; }
    public int BosId { get; set; } = -1;
    public int EosId { get; set; } = -1;
    public int UnkId { get; set; } = -1;
    public int? EotId { get; set; }
    public bool AddBos { get; set; }
    public bool AddSpacePrefix { get; set; }
    public HashSet<int> EndOfGeneration { get; } = [];

    /// <summary>Control, user-defined and unknown tokens, longest UTF-8 text first (ties by id).</summary>
    public int[] SpecialTokens { get; private set; } = [];

    public int Count => Texts.Length;

    public void BuildSpecialTokens()
    {
        const TokenAttributes special = TokenAttributes.Control | TokenAttributes.UserDefined | TokenAttributes.Unknown;
        var ids = new List<int>();
        for (int id = 0; id < Count; id++)
        {
            if ((Attributes[id] & special) != 0) ids.Add(id);
        }
        var lengths = ids.ToDictionary(id => id, id => System.Text.Encoding.UTF8.GetByteCount(Texts[id]));
        SpecialTokens = [.. ids.OrderByDescending(id => lengths[id]).ThenBy(id => id)];
    }
}
