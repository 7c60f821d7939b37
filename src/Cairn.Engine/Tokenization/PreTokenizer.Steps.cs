using System.Text;
using System.Text.RegularExpressions;
using static Cairn.Engine.Tokenization.CodepointFlags;

namespace Cairn.Engine.Tokenization;

public sealed partial class PreTokenizer
{
    /// <summary>One split expression: refines a list of piece lengths (in codepoints) into a finer one.</summary>
    private abstract class Step
    {
        public abstract List<int> Split(SplitContext context, List<int> lengths);

        public static Step Create(string expression) => expression switch
        {
            Gpt2Expression => new Gpt2Step(),
            Llama3Expression or Llama3OriginalExpression => new Llama3Step(),
            _ => new RegexStep(expression),
        };
    }

    /// <summary>Walks each piece with a matcher; <c>Cpt</c> is -1 and <c>Flags</c> 0 outside the piece, as llama.cpp's OUT_OF_RANGE.</summary>
    private abstract class CustomStep : Step
    {
        public override List<int> Split(SplitContext context, List<int> lengths)
        {
            var result = new List<int>(lengths.Count);
            int start = 0;
            foreach (int length in lengths)
            {
                var piece = new Piece(context.Codepoints, start, start + length, result);
                SplitPiece(ref piece);
                start += length;
            }
            return result;
        }

        protected abstract void SplitPiece(ref Piece p);

        protected ref struct Piece(int[] cpts, int ini, int end, List<int> output)
        {
            private int _previousEnd = ini;

            public readonly int Ini = ini, End = end;

            public readonly int Cpt(int pos) => pos >= Ini && pos < End ? cpts[pos] : -1;

            public readonly int Flags(int pos) => pos >= Ini && pos < End ? Of(cpts[pos]) : OutOfRange;

            /// <summary>Ends the current word at <paramref name="end"/>; returns its length.</summary>
            public int Add(int end)
            {
                int length = end - _previousEnd;
                if (length > 0) output.Add(length);
                _previousEnd = end;
                return length;
            }
        }

        protected static bool Has(int flags, int flag) => (flags & flag) != 0;

        protected static bool IsOther(int flags) => (flags & (Whitespace | Letter | Number)) == 0 && flags != OutOfRange;

        protected static int Lower(int cpt) => cpt < 0 ? cpt : ToLower(cpt);

        /// <summary><c>\s+(?!\S)|\s+</c> (with <c>\s*[\r\n]+</c> first when <paramref name="newlines"/>); false when no whitespace is at <paramref name="pos"/>.</summary>
        protected static bool SpaceRun(ref Piece p, ref int pos, bool newlines)
        {
            int count = 0, lastNewlineEnd = 0;
            while (Has(p.Flags(pos + count), CodepointFlags.Whitespace))
            {
                if (p.Cpt(pos + count) is '\r' or '\n') lastNewlineEnd = pos + count + 1;
                count++;
            }
            if (newlines && lastNewlineEnd > 0)
            {
                pos = lastNewlineEnd;
                p.Add(pos);
                return true;
            }
            if (count > 1 && p.Cpt(pos + count) != -1)
            {
                pos += count - 1;
                p.Add(pos);
                return true;
            }
            if (count > 0)
            {
                pos += count;
                p.Add(pos);
                return true;
            }
            return false;
        }

        /// <summary>The contractions <c>'s|'t|'re|'ve|'m|'ll|'d</c>, case-insensitive when asked.</summary>
        protected static bool Contraction(ref Piece p, ref int pos, bool ignoreCase)
        {
            if (p.Cpt(pos) != '\'' || pos + 1 >= p.End) return false;
            int next = ignoreCase ? Lower(p.Cpt(pos + 1)) : p.Cpt(pos + 1);
            if (next is 's' or 't' or 'm' or 'd')
            {
                pos += p.Add(pos + 2);
                return true;
            }
            if (pos + 2 < p.End)
            {
                int after = ignoreCase ? Lower(p.Cpt(pos + 2)) : p.Cpt(pos + 2);
                if ((next == 'r' && after == 'e') || (next == 'v' && after == 'e') || (next == 'l' && after == 'l'))
                {
                    pos += p.Add(pos + 3);
                    return true;
                }
            }
            return false;
        }
    }

    /// <summary>GPT-2: <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c> (llama.cpp's <c>unicode_regex_split_custom_gpt2</c>).</summary>
    private sealed class Gpt2Step : CustomStep
    {
        protected override void SplitPiece(ref Piece p)
        {
            for (int pos = p.Ini; pos < p.End;)
            {
                if (Contraction(ref p, ref pos, ignoreCase: false)) continue;
                int cpt = p.Cpt(pos);
                int flags2 = cpt == ' ' ? p.Flags(pos + 1) : p.Flags(pos);
                if (Has(flags2, Letter) || Has(flags2, Number) || IsOther(flags2))
                {
                    int kind = Has(flags2, Letter) ? 0 : Has(flags2, Number) ? 1 : 2;
                    if (cpt == ' ') pos++;
                    while (kind == 0 ? Has(flags2, Letter) : kind == 1 ? Has(flags2, Number) : IsOther(flags2)) flags2 = p.Flags(++pos);
                    p.Add(pos);
                    continue;
                }
                if (SpaceRun(ref p, ref pos, newlines: false)) continue;
                p.Add(++pos);
            }
        }
    }

    /// <summary>Llama 3: <c>(?i:'s|…)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+</c> (llama.cpp's <c>unicode_regex_split_custom_llama3</c>).</summary>
    private sealed class Llama3Step : CustomStep
    {
        protected override void SplitPiece(ref Piece p)
        {
            for (int pos = p.Ini; pos < p.End;)
            {
                if (Contraction(ref p, ref pos, ignoreCase: true)) continue;
                int cpt = p.Cpt(pos);
                int flags = p.Flags(pos);
                if (!(cpt is '\r' or '\n' || Has(flags, Number)) && (Has(flags, Letter) || Has(p.Flags(pos + 1), Letter)))
                {
                    pos++;
                    while (Has(p.Flags(pos), Letter)) pos++;
                    p.Add(pos);
                    continue;
                }
                if (Has(flags, Number))
                {
                    int ini = pos;
                    while (Has(p.Flags(pos), Number))
                    {
                        if (++pos - ini >= 3)
                        {
                            p.Add(pos);
                            ini = pos;
                        }
                    }
                    p.Add(pos);
                    continue;
                }
                int flags2 = cpt == ' ' ? p.Flags(pos + 1) : flags;
                // llama.cpp tests the first character's flags against "in range" here, not flags2's.
                if ((flags2 & (CodepointFlags.Whitespace | Letter | Number)) == 0 && flags != OutOfRange)
                {
                    if (cpt == ' ') pos++;
                    while (IsOther(flags2)) flags2 = p.Flags(++pos);
                    while (p.Cpt(pos) is '\r' or '\n') pos++;
                    p.Add(pos);
                    continue;
                }
                if (SpaceRun(ref p, ref pos, newlines: true)) continue;
                p.Add(++pos);
            }
        }
    }

    /// <summary>Any other expression, run with .NET's backtracking engine on llama.cpp's collapsed or per-codepoint text.</summary>
    private sealed class RegexStep : Step
    {
        private static readonly (string Name, char Marker, string Ascii)[] s_categories =
        [
            (@"\p{N}", '\u00D1', "0-9"),
            (@"\p{L}", '\u00D2', "A-Za-z"),
            (@"\p{P}", '\u00D3', @"!-#%-*,-/:-;?-@\[-\]_\{\}"),
            (@"\p{M}", '\u00D4', ""),
            (@"\p{S}", '\u00D5', @"\$\+<->^`\|"),
            (@"\p{Lu}", '\u00D2', "A-Za-z"),
            (@"\p{Ll}", '\u00D2', "A-Za-z"),
            (@"\p{Lt}", '\u00D2', "A-Za-z"),
            (@"\p{Lm}", '\u00D2', "A-Za-z"),
            (@"\p{Lo}", '\u00D2', "A-Za-z"),
        ];

        private readonly Regex _regex;
        private readonly bool _collapsed;
        private readonly List<(int Lo, int Hi)> _astral = [];

        public RegexStep(string expression)
        {
            _collapsed = s_categories.Any(c => expression.Contains(c.Name, StringComparison.Ordinal));
            string pattern = _collapsed ? Collapse(expression) : Widen(expression, _astral);
            _regex = new Regex(pattern, RegexOptions.CultureInvariant);
        }

        public override List<int> Split(SplitContext context, List<int> lengths)
        {
            string text = _collapsed ? context.Collapsed : context.Wide(_regex, _astral);
            var result = new List<int>(lengths.Count);
            int start = 0;
            foreach (int length in lengths)
            {
                string piece = text.Substring(start, length);
                int done = 0;
                for (Match m = _regex.Match(piece); m.Success; m = m.NextMatch())
                {
                    if (m.Length == 0) continue;
                    if (m.Index > done) result.Add(m.Index - done);
                    result.Add(m.Length);
                    done = m.Index + m.Length;
                }
                if (done < length) result.Add(length - done);
                start += length;
            }
            return result;
        }

        /// <summary>llama.cpp's collapsing of <c>\p{X}</c> into "[marker ascii-range]" (no brackets added inside a class).</summary>
        private static string Collapse(string expression)
        {
            if (expression.Any(c => c >= 128)) throw new ArgumentException($"expression mixes unicode categories and non-ASCII characters: {expression}");
            var sb = new StringBuilder();
            bool inside = false;
            for (int i = 0; i < expression.Length; i++)
            {
                char c = expression[i];
                bool escaped = i > 0 && expression[i - 1] == '\\';
                if (c == '[' && !escaped) { sb.Append('['); inside = true; continue; }
                if (inside && c == ']' && !escaped) { sb.Append(']'); inside = false; continue; }
                if (c == '\\' && i + 3 < expression.Length && expression[i + 1] == 'p' && expression[i + 2] == '{')
                {
                    int close = expression.IndexOf('}', i + 3);
                    if (close >= 0 && close <= i + 10)
                    {
                        string name = expression[i..(close + 1)];
                        int k = Array.FindIndex(s_categories, x => x.Name == name);
                        if (k >= 0)
                        {
                            if (!inside) sb.Append('[');
                            sb.Append(s_categories[k].Marker).Append(s_categories[k].Ascii);
                            if (!inside) sb.Append(']');
                            i = close;
                            continue;
                        }
                    }
                }
                sb.Append(c == '$' && !escaped && !inside ? @"\z" : c.ToString());
            }
            return sb.ToString();
        }

        /// <summary>
        /// An expression without categories, for the per-codepoint text: ranges above U+FFFF inside classes (which
        /// .NET cannot express) are recorded and replaced by the marker U+FDD1; <c>$</c> becomes <c>\z</c> (ECMAScript's end of input).
        /// </summary>
        private static string Widen(string expression, List<(int Lo, int Hi)> astral)
        {
            int[] cpts = Codepoints(expression);
            var sb = new StringBuilder();
            bool inside = false, classHasAstral = false;
            for (int i = 0; i < cpts.Length; i++)
            {
                int c = cpts[i];
                bool escaped = i > 0 && cpts[i - 1] == '\\';
                if (c == '[' && !escaped) { inside = true; classHasAstral = false; sb.Append('['); continue; }
                if (c == ']' && inside && !escaped)
                {
                    if (classHasAstral) sb.Append('\uFDD1');
                    inside = false;
                    sb.Append(']');
                    continue;
                }
                if (inside && c > 0xFFFF)
                {
                    int hi = c;
                    if (i + 2 < cpts.Length && cpts[i + 1] == '-' && cpts[i + 2] > 0xFFFF)
                    {
                        hi = cpts[i + 2];
                        i += 2;
                    }
                    astral.Add((c, hi));
                    classHasAstral = true;
                    continue;
                }
                if (c == '$' && !escaped && !inside) sb.Append(@"\z");
                else sb.Append(char.ConvertFromUtf32(c));
            }
            return sb.ToString();
        }
    }
}
