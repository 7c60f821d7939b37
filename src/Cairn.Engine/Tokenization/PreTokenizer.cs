using System.Text;
using System.Text.RegularExpressions;

namespace Cairn.Engine.Tokenization;

/// <summary>
/// Splits text into words before byte-level BPE, as llama.cpp's <c>unicode_regex_split</c>: a list of expressions
/// chosen by <c>tokenizer.ggml.pre</c>, each splitting every piece the previous left (matches and the text between
/// them both become pieces). The GPT-2 and Llama-3 expressions run as hand-written matchers, as in llama.cpp.
/// Expressions using <c>\p{…}</c> run on llama.cpp's "collapsed" text (one char per codepoint: ASCII kept, other
/// whitespace → U+000B, other codepoints → a marker char for their category), so they behave exactly as there.
/// </summary>
public sealed partial class PreTokenizer
{
    private readonly Step[] _steps;

    private PreTokenizer(string name, string requested, string[] expressions)
    {
        Name = name;
        RequestedName = requested;
        _steps = [.. expressions.Select(Step.Create)];
    }

    /// <summary>The pre-tokenizer in use ("default" when <see cref="RequestedName"/> was unknown or empty).</summary>
    public string Name { get; }

    /// <summary>The <c>tokenizer.ggml.pre</c> value asked for.</summary>
    public string RequestedName { get; }

    /// <summary>True when <see cref="RequestedName"/> was not recognised and the default expressions are used instead (llama.cpp refuses such a file).</summary>
    public bool IsFallback => Name != RequestedName;

    /// <summary>The pre-tokenizer for a <c>tokenizer.ggml.pre</c> value; unknown or empty values get "default".</summary>
    public static PreTokenizer ForName(string? pre)
    {
        string requested = pre ?? "";
        return Expressions(requested) is { } expressions
            ? new PreTokenizer(requested, requested, expressions)
            : new PreTokenizer("default", requested, Expressions("default")!);
    }

    /// <summary>The words of <paramref name="text"/>, in order; their concatenation is the text (lone surrogates become U+FFFD).</summary>
    public List<string> Split(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int[] cpts = CodepointFlags.Codepoints(text);
        var lengths = new List<int> { cpts.Length };
        var context = new SplitContext(cpts);
        foreach (Step step in _steps) lengths = step.Split(context, lengths);

        var words = new List<string>(lengths.Count);
        var sb = new StringBuilder();
        int start = 0;
        foreach (int length in lengths)
        {
            sb.Clear();
            for (int i = start; i < start + length; i++) sb.Append(char.ConvertFromUtf32(cpts[i]));
            start += length;
            if (length > 0) words.Add(sb.ToString());
        }
        return words;
    }

    /// <summary>The codepoints and, built on first use, the two per-codepoint views the regular expressions run on.</summary>
    private sealed class SplitContext(int[] cpts)
    {
        private string? _collapsed;
        private readonly Dictionary<Regex, string> _wide = [];

        public int[] Codepoints { get; } = cpts;

        /// <summary>llama.cpp's collapsed text: ASCII as is, other whitespace U+000B, else U+00D1 number, U+00D2 letter, U+00D3 punctuation, U+00D4 mark, U+00D5 symbol, U+00D0 other.</summary>
        public string Collapsed => _collapsed ??= string.Create(Codepoints.Length, Codepoints, static (dst, src) =>
        {
            for (int i = 0; i < src.Length; i++)
            {
                int c = src[i];
                if (c < 128) { dst[i] = (char)c; continue; }
                int flags = CodepointFlags.Of(c);
                dst[i] = (flags & CodepointFlags.Whitespace) != 0 ? '\v'
                    : (flags & CodepointFlags.Number) != 0 ? '\u00D1'
                    : (flags & CodepointFlags.Letter) != 0 ? '\u00D2'
                    : (flags & CodepointFlags.Punctuation) != 0 ? '\u00D3'
                    : (flags & CodepointFlags.Mark) != 0 ? '\u00D4'
                    : (flags & CodepointFlags.Symbol) != 0 ? '\u00D5'
                    : '\u00D0';
            }
        });

        /// <summary>
        /// One char per codepoint for expressions without categories (llama.cpp runs them with std::wregex on
        /// codepoints): non-ASCII whitespace → U+000B; a codepoint above U+FFFF → U+FDD1 when the expression's
        /// classes name it, else U+FDD0 (two noncharacters the expressions never name).
        /// </summary>
        public string Wide(Regex regex, List<(int Lo, int Hi)> astral)
        {
            if (_wide.TryGetValue(regex, out string? text)) return text;
            var sb = new StringBuilder(Codepoints.Length);
            foreach (int c in Codepoints)
            {
                if (c > 0x7F && CodepointFlags.IsWhitespace(c)) sb.Append('\v');
                else if (c > 0xFFFF) sb.Append(astral.Any(r => r.Lo <= c && c <= r.Hi) ? '\uFDD1' : '\uFDD0');
                else if (c is 0xFDD0 or 0xFDD1 || char.IsSurrogate((char)c)) sb.Append('\uFDD0');
                else sb.Append((char)c);
            }
            return _wide[regex] = sb.ToString();
        }
    }
}
