namespace Cairn.Engine.Tokenization;

/// <summary>A run of text still to tokenize (<see cref="Token"/> = -1) or an already recognised special token.</summary>
internal readonly record struct Fragment(int Token, int Start, int Length)
{
    public bool IsText => Token < 0;
}

/// <summary>
/// Splits text on special-token texts before tokenization, as llama.cpp's <c>tokenizer_st_partition</c>: each special
/// token, longest first, is searched in every text fragment left. Control and unknown tokens count only with
/// <c>parseSpecial</c>; user-defined tokens always. LSTRIP/RSTRIP tokens swallow the ASCII whitespace beside them.
/// </summary>
internal static class SpecialTokenSplitter
{
    public static List<Fragment> Split(Vocabulary vocabulary, string text, bool parseSpecial)
    {
        var fragments = new List<Fragment>();
        if (text.Length == 0) return fragments;
        fragments.Add(new Fragment(-1, 0, text.Length));

        foreach (int id in vocabulary.SpecialTokens)
        {
            TokenAttributes attr = vocabulary.Attributes[id];
            if (!parseSpecial && (attr & (TokenAttributes.Control | TokenAttributes.Unknown)) != 0) continue;
            string special = vocabulary.Texts[id];

            for (int f = 0; f < fragments.Count; f++)
            {
                if (!fragments[f].IsText) continue;
                int start = fragments[f].Start, end = start + fragments[f].Length;
                int match = text.IndexOf(special, start, end - start, StringComparison.Ordinal);
                if (match < 0) continue;

                var replacement = new List<Fragment>();
                while (match >= 0)
                {
                    int leftLength = match - start;
                    if ((attr & TokenAttributes.LStrip) != 0)
                    {
                        while (leftLength > 0 && IsAsciiSpace(text[start + leftLength - 1])) leftLength--;
                    }
                    if (leftLength > 0) replacement.Add(new Fragment(-1, start, leftLength));
                    replacement.Add(new Fragment(id, match, special.Length));

                    start = match + special.Length;
                    if ((attr & TokenAttributes.RStrip) != 0)
                    {
                        while (start < end && IsAsciiSpace(text[start])) start++;
                    }
                    match = start < end ? text.IndexOf(special, start, end - start, StringComparison.Ordinal) : -1;
                }
                if (start < end) replacement.Add(new Fragment(-1, start, end - start));
                fragments.RemoveAt(f);
                fragments.InsertRange(f, replacement);
                f += replacement.Count - 1;
            }
        }
        return fragments;
    }

    /// <summary>C's <c>isspace</c> in the "C" locale.</summary>
    private static bool IsAsciiSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';
}
