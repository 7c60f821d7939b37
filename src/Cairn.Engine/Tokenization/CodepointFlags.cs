using System.Buffers;
using System.Globalization;
using System.Text;

namespace Cairn.Engine.Tokenization;

/// <summary>
/// Unicode classification as llama.cpp's <c>unicode_cpt_flags</c>: one category flag per codepoint (Cn is
/// <see cref="Undefined"/>, which is non-zero) plus the White_Space property. A position outside the text has no flags
/// at all (0); the custom splitters rely on that. Categories come from .NET's tables, which may differ from llama.cpp's
/// for codepoints assigned in the newest Unicode versions.
/// </summary>
internal static class CodepointFlags
{
    public const int Undefined = 0x001, Number = 0x002, Letter = 0x004, Separator = 0x008, Mark = 0x010,
        Punctuation = 0x020, Symbol = 0x040, Control = 0x080, Whitespace = 0x100;

    public const int OutOfRange = 0;

    public static int Of(int cpt)
    {
        if ((uint)cpt > 0x10FFFF) return Undefined;
        int flags = CharUnicodeInfo.GetUnicodeCategory(cpt) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => Letter,
            UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => Mark,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Number,
            UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator => Separator,
            UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
                or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
                or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation => Punctuation,
            UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol or UnicodeCategory.ModifierSymbol
                or UnicodeCategory.OtherSymbol => Symbol,
            UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate => Control,
            _ => Undefined,
        };
        return IsWhitespace(cpt) ? flags | Whitespace : flags;
    }

    /// <summary>The Unicode White_Space property (PropList.txt), the set llama.cpp's <c>unicode_set_whitespace</c> holds.</summary>
    public static bool IsWhitespace(int c) =>
        c is (>= 0x09 and <= 0x0D) or 0x20 or 0x85 or 0xA0 or 0x1680 or (>= 0x2000 and <= 0x200A)
            or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000;

    public static int ToLower(int cpt) =>
        cpt <= 0xFFFF && !char.IsSurrogate((char)cpt) ? char.ToLowerInvariant((char)cpt) : cpt;

    /// <summary>Codepoints of a .NET string; a lone surrogate becomes U+FFFD (llama.cpp does the same for invalid UTF-8).</summary>
    public static int[] Codepoints(ReadOnlySpan<char> text)
    {
        var result = new List<int>(text.Length);
        for (int i = 0; i < text.Length;)
        {
            OperationStatus status = Rune.DecodeFromUtf16(text[i..], out Rune r, out int used);
            result.Add(status == OperationStatus.Done ? r.Value : 0xFFFD);
            i += Math.Max(used, 1);
        }
        return result.ToArray();
    }
}
