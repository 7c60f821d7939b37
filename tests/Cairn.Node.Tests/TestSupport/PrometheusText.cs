using System.Globalization;
using System.Text;

namespace Cairn.Node.Tests.TestSupport;

/// <summary>
/// A strict parser of the Prometheus text exposition format 0.0.4 (prometheus.io, "Exposition formats"), written here
/// because no parser of the format restores from NuGet for .NET (prometheus-net and OpenTelemetry only write it). It
/// refuses what Prometheus' own parser refuses: a metric or label name outside <c>[a-zA-Z_:][a-zA-Z0-9_:]*</c> (labels
/// without ':'), a bad escape in a label value, a duplicate label, a value that is not a float, a TYPE other than
/// counter/gauge/histogram/summary/untyped, a TYPE after its metric's samples, two TYPE lines for one metric, a sample
/// whose name is not its family's (histogram: _bucket, _sum, _count; bucket lines need <c>le</c>), the same series twice,
/// and a histogram whose buckets are not cumulative, lack <c>le="+Inf"</c> or whose +Inf bucket differs from _count.
/// </summary>
public static class PrometheusText
{
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
    {
        public string? Label(string name) => Labels.TryGetValue(name, out var v) ? v : null;
    }

    public sealed record Family(string Name, string Type, string? Help, List<Sample> Samples);

    public static Dictionary<string, Family> Parse(string text)
    {
        if (text.Length > 0 && !text.EndsWith('\n')) throw new FormatException("the exposition must end with a line feed");
        var families = new Dictionary<string, Family>(StringComparer.Ordinal);
        var series = new HashSet<string>(StringComparer.Ordinal);
        int n = 0;
        foreach (string line in text.Split('\n')[..^1])
        {
            n++;
            if (line.Length == 0) continue;
            if (line.StartsWith('#'))
            {
                Comment(line, n, families);
                continue;
            }
            var sample = ParseSample(line, n);
            var family = FamilyOf(sample, families) ?? throw new FormatException($"line {n}: sample {sample.Name} has no TYPE line before it");
            if (family.Type == "histogram" && sample.Name == family.Name + "_bucket" && sample.Label("le") is null)
                throw new FormatException($"line {n}: a histogram bucket without le");
            string key = sample.Name + "{" + string.Join(",", sample.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value)) + "}";
            if (!series.Add(key)) throw new FormatException($"line {n}: series {key} appears twice");
            family.Samples.Add(sample);
        }
        foreach (var f in families.Values.Where(f => f.Type == "histogram")) CheckHistogram(f);
        return families;
    }

    private static void Comment(string line, int n, Dictionary<string, Family> families)
    {
        string[] parts = line.Split(' ', 4);
        if (parts.Length < 3 || parts[0] != "#" || parts[1] is not ("HELP" or "TYPE")) return; // any other comment is ignored
        string name = parts[2];
        if (!IsMetricName(name)) throw new FormatException($"line {n}: bad metric name '{name}'");
        if (parts[1] == "HELP")
        {
            string help = parts.Length > 3 ? Unescape(parts[3], n, quoted: false) : "";
            families[name] = families.TryGetValue(name, out var f) ? f with { Help = help } : new Family(name, "untyped", help, []);
            return;
        }
        if (parts.Length != 4 || parts[3] is not ("counter" or "gauge" or "histogram" or "summary" or "untyped"))
            throw new FormatException($"line {n}: bad TYPE line '{line}'");
        if (families.TryGetValue(name, out var existing))
        {
            if (existing.Samples.Count > 0) throw new FormatException($"line {n}: TYPE of {name} after its samples");
            if (existing.Type != "untyped") throw new FormatException($"line {n}: a second TYPE for {name}");
            families[name] = existing with { Type = parts[3] };
        }
        else families[name] = new Family(name, parts[3], null, []);
    }

    private static Family? FamilyOf(Sample s, Dictionary<string, Family> families)
    {
        if (families.TryGetValue(s.Name, out var f) && f.Type != "histogram" && f.Type != "summary") return f;
        foreach (string suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (!s.Name.EndsWith(suffix, StringComparison.Ordinal)) continue;
            if (families.TryGetValue(s.Name[..^suffix.Length], out var h) && (h.Type == "histogram" || (h.Type == "summary" && suffix != "_bucket"))) return h;
        }
        return null;
    }

    private static Sample ParseSample(string line, int n)
    {
        int i = 0;
        while (i < line.Length && line[i] != '{' && line[i] != ' ') i++;
        string name = line[..i];
        if (!IsMetricName(name)) throw new FormatException($"line {n}: bad metric name '{name}'");
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (line[i] != '}')
            {
                int start = i;
                while (i < line.Length && line[i] != '=') i++;
                string label = line[start..i];
                if (!IsLabelName(label)) throw new FormatException($"line {n}: bad label name '{label}'");
                if (i + 1 >= line.Length || line[i + 1] != '"') throw new FormatException($"line {n}: label {label} has no quoted value");
                i += 2;
                var value = new StringBuilder();
                while (true)
                {
                    if (i >= line.Length) throw new FormatException($"line {n}: unterminated label value");
                    char c = line[i++];
                    if (c == '"') break;
                    if (c != '\\')
                    {
                        value.Append(c);
                        continue;
                    }
                    if (i >= line.Length) throw new FormatException($"line {n}: unterminated escape");
                    value.Append(line[i++] switch { '\\' => '\\', '"' => '"', 'n' => '\n', char e => throw new FormatException($"line {n}: bad escape \\{e}") });
                }
                if (!labels.TryAdd(label, value.ToString())) throw new FormatException($"line {n}: label {label} twice");
                if (i < line.Length && line[i] == ',') i++;
                else if (i >= line.Length || line[i] != '}') throw new FormatException($"line {n}: expected ',' or '}}' after label {label}");
            }
            i++;
        }
        if (i >= line.Length || line[i] != ' ') throw new FormatException($"line {n}: expected a space before the value");
        string[] rest = line[(i + 1)..].Split(' ');
        if (rest.Length is < 1 or > 2) throw new FormatException($"line {n}: expected a value and an optional timestamp");
        double v = rest[0] switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => d,
            string s => throw new FormatException($"line {n}: '{s}' is not a float"),
        };
        if (rest.Length == 2 && !long.TryParse(rest[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
            throw new FormatException($"line {n}: '{rest[1]}' is not a timestamp");
        return new Sample(name, labels, v);
    }

    private static void CheckHistogram(Family f)
    {
        foreach (var group in f.Samples.GroupBy(s => string.Join(",", s.Labels.Where(l => l.Key != "le").OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value))))
        {
            var buckets = group.Where(s => s.Name == f.Name + "_bucket").Select(s => (Le: ParseLe(s.Label("le")!, f.Name), s.Value)).OrderBy(b => b.Le).ToList();
            var count = group.SingleOrDefault(s => s.Name == f.Name + "_count") ?? throw new FormatException($"{f.Name}{{{group.Key}}} has no _count");
            _ = group.SingleOrDefault(s => s.Name == f.Name + "_sum") ?? throw new FormatException($"{f.Name}{{{group.Key}}} has no _sum");
            if (buckets.Count == 0 || !double.IsPositiveInfinity(buckets[^1].Le)) throw new FormatException($"{f.Name}{{{group.Key}}} has no le=\"+Inf\" bucket");
            for (int i = 1; i < buckets.Count; i++)
            {
                if (buckets[i].Value < buckets[i - 1].Value) throw new FormatException($"{f.Name}{{{group.Key}}}: bucket le={buckets[i].Le} is below the one before it");
            }
            if (buckets[^1].Value != count.Value) throw new FormatException($"{f.Name}{{{group.Key}}}: the +Inf bucket {buckets[^1].Value} differs from _count {count.Value}");
        }
    }

    private static double ParseLe(string le, string name) => le == "+Inf" ? double.PositiveInfinity
        : double.TryParse(le, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : throw new FormatException($"{name}: bad le '{le}'");

    private static string Unescape(string s, int n, bool quoted)
    {
        var b = new StringBuilder();
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] != '\\') { b.Append(s[i]); continue; }
            if (++i >= s.Length) throw new FormatException($"line {n}: unterminated escape");
            b.Append(s[i] switch { '\\' => '\\', 'n' => '\n', '"' when quoted => '"', char e => throw new FormatException($"line {n}: bad escape \\{e}") });
        }
        return b.ToString();
    }

    private static bool IsMetricName(string s) => s.Length > 0 && (char.IsAsciiLetter(s[0]) || s[0] is '_' or ':') && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or ':');

    private static bool IsLabelName(string s) => s.Length > 0 && (char.IsAsciiLetter(s[0]) || s[0] == '_') && s.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') && !s.StartsWith("__", StringComparison.Ordinal);
}
