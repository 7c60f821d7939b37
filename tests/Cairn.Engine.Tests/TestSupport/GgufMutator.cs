using System.Buffers.Binary;
using System.Text;

namespace Cairn.Engine.Tests.TestSupport;

/// <summary>
/// Deterministic mutations of a GGUF file for fuzzing readers (and, later, model and tokenizer loaders).
/// Mutation <c>i</c> of <c>Mutations(original, seed, count)</c> depends only on (original, seed, i), so
/// <see cref="Mutation"/> reproduces one failing case alone.
/// </summary>
public static class GgufMutator
{
    /// <summary>Mutations touch the first 64 KiB, where the header lives, unless they pick a known field.</summary>
    public const int HeaderWindow = 64 << 10;

    private static readonly ulong[] Extreme64 =
        [0, ulong.MaxValue, 1UL << 31, 1UL << 63, (1UL << 31) - 1, 1UL << 32, 1UL << 60, long.MaxValue, 1, 5, 13];
    private static readonly uint[] Extreme32 = [0, uint.MaxValue, 1u << 31, 1, 4, 5, 9, 13, 31, 39, 99];

    /// <summary>Reference GGUF files as paths relative to the reference root: <c>models/*.gguf</c> then <c>vocab/*.gguf</c>, sorted.</summary>
    public static IReadOnlyList<string> ReferenceFileNames()
    {
        string root = ReferenceData.Root ?? throw new InvalidOperationException("../shared/reference/ is absent (set CAIRN_REFERENCE)");
        return new[] { "models", "vocab" }.SelectMany(dir => Directory.GetFiles(Path.Combine(root, dir), "*.gguf")
                .Select(p => dir + "/" + Path.GetFileName(p)).Order(StringComparer.Ordinal)).ToList();
    }

    public static string ReferencePath(string relative) =>
        relative.StartsWith("models/", StringComparison.Ordinal) ? ReferenceData.Model(relative[7..]) : ReferenceData.Vocab(relative[6..]);

    /// <summary><paramref name="count"/> mutated copies of <paramref name="original"/>, each with a description that reproduces it.</summary>
    public static IEnumerable<(string Description, byte[] Bytes)> Mutations(byte[] original, int seed, int count)
    {
        var fields = GgufFields.Of(original);
        for (int i = 0; i < count; i++) yield return Mutate(original, fields, seed, i);
    }

    /// <summary>Mutation number <paramref name="index"/> of <see cref="Mutations"/>, alone.</summary>
    public static (string Description, byte[] Bytes) Mutation(byte[] original, int seed, int index) =>
        Mutate(original, GgufFields.Of(original), seed, index);

    private static (string, byte[]) Mutate(byte[] original, IReadOnlyList<GgufFields.Field> fields, int seed, int index)
    {
        var rng = new Random(unchecked(seed * 1_000_003 + index));
        var (what, bytes) = rng.Next(10) switch
        {
            0 or 1 or 2 when fields.Count > 0 => SetField(original, fields, rng),
            3 or 4 => FlipBytes(original, rng),
            5 => Overwrite8(original, rng),
            6 => Truncate(original, rng),
            7 => DuplicateRange(original, rng),
            8 => DeleteRange(original, rng),
            _ => fields.Count > 0 ? SetField(original, fields, rng) : FlipBytes(original, rng),
        };
        return ($"seed {seed} mutation {index}: {what}", bytes);
    }

    private static int Window(byte[] b) => Math.Min(b.Length, HeaderWindow);

    private static (string, byte[]) FlipBytes(byte[] original, Random rng)
    {
        byte[] b = (byte[])original.Clone();
        int n = 1 + rng.Next(8);
        var at = new List<int>(n);
        for (int k = 0; k < n && b.Length > 0; k++)
        {
            int p = rng.Next(Window(b));
            b[p] ^= (byte)(1 + rng.Next(255));
            at.Add(p);
        }
        return ($"xor {at.Count} bytes at [{string.Join(", ", at)}]", b);
    }

    private static (string, byte[]) Overwrite8(byte[] original, Random rng)
    {
        byte[] b = (byte[])original.Clone();
        if (b.Length < 8) return ("unchanged (shorter than 8 bytes)", b);
        int p = rng.Next(Math.Min(b.Length - 7, HeaderWindow));
        ulong v = Extreme64[rng.Next(Extreme64.Length)];
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(p), v);
        return ($"u64 0x{v:X} at {p}", b);
    }

    private static (string, byte[]) SetField(byte[] original, IReadOnlyList<GgufFields.Field> fields, Random rng)
    {
        byte[] b = (byte[])original.Clone();
        var f = fields[rng.Next(fields.Count)];
        ulong v;
        if (f.Size == 8) BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan((int)f.Offset), v = Extreme64[rng.Next(Extreme64.Length)]);
        else if (f.Size == 4) BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan((int)f.Offset), (uint)(v = Extreme32[rng.Next(Extreme32.Length)]));
        else b[f.Offset] = (byte)(v = (ulong)rng.Next(256));
        return ($"set {f.What} (offset {f.Offset}, {f.Size} bytes) to 0x{v:X}", b);
    }

    private static (string, byte[]) Truncate(byte[] original, Random rng)
    {
        // Half the cuts fall in the header, half anywhere (tensor data).
        int n = rng.Next(2) == 0 ? rng.Next(Window(original) + 1) : rng.Next(original.Length + 1);
        return ($"truncate to {n} bytes", original[..n]);
    }

    private static (string, byte[]) DuplicateRange(byte[] original, Random rng)
    {
        int from = rng.Next(Window(original)), length = Math.Min(1 + rng.Next(4096), original.Length - from);
        int to = rng.Next(Window(original) + 1);
        var b = new byte[original.Length + length];
        original.AsSpan(0, to).CopyTo(b);
        original.AsSpan(from, length).CopyTo(b.AsSpan(to));
        original.AsSpan(to).CopyTo(b.AsSpan(to + length));
        return ($"insert a copy of [{from}, {from + length}) at {to}", b);
    }

    private static (string, byte[]) DeleteRange(byte[] original, Random rng)
    {
        int from = rng.Next(Window(original)), length = Math.Min(1 + rng.Next(4096), original.Length - from);
        var b = new byte[original.Length - length];
        original.AsSpan(0, from).CopyTo(b);
        original.AsSpan(from + length).CopyTo(b.AsSpan(from));
        return ($"delete [{from}, {from + length})", b);
    }

    /// <summary>Offsets of the structural fields of a valid GGUF file (counts, lengths, types, dimensions, offsets).</summary>
    private static class GgufFields
    {
        public readonly record struct Field(long Offset, int Size, string What);

        public static IReadOnlyList<Field> Of(byte[] b)
        {
            var fields = new List<Field>();
            try
            {
                Walk(b, fields);
            }
            catch (Exception e) when (e is ArgumentOutOfRangeException or IndexOutOfRangeException or OverflowException)
            {
                // Not a valid GGUF file: the fields found so far are still useful.
            }
            return fields;
        }

        private static void Walk(byte[] b, List<Field> fields)
        {
            long p = 4;
            fields.Add(new(p, 4, "version")); p += 4;
            ulong tensors = U64(b, p); fields.Add(new(p, 8, "tensor_count")); p += 8;
            ulong kvs = U64(b, p); fields.Add(new(p, 8, "metadata_kv_count")); p += 8;
            for (ulong i = 0; i < kvs; i++)
            {
                string key = Str(b, ref p, fields, "key length");
                uint type = U32(b, p); fields.Add(new(p, 4, $"value type of '{key}'")); p += 4;
                Value(b, ref p, fields, key, type);
            }
            for (ulong i = 0; i < tensors; i++)
            {
                string name = Str(b, ref p, fields, "tensor name length");
                uint nDims = U32(b, p); fields.Add(new(p, 4, $"n_dims of '{name}'")); p += 4;
                for (uint d = 0; d < nDims; d++) { fields.Add(new(p, 8, $"dimension {d} of '{name}'")); p += 8; }
                fields.Add(new(p, 4, $"ggml type of '{name}'")); p += 4;
                fields.Add(new(p, 8, $"offset of '{name}'")); p += 8;
            }
        }

        private static void Value(byte[] b, ref long p, List<Field> fields, string key, uint type)
        {
            switch (type)
            {
                case 0 or 1 or 7: fields.Add(new(p, 1, $"value of '{key}'")); p += 1; break;
                case 2 or 3: p += 2; break;
                case 4 or 5 or 6: fields.Add(new(p, 4, $"value of '{key}'")); p += 4; break;
                case 10 or 11 or 12: fields.Add(new(p, 8, $"value of '{key}'")); p += 8; break;
                case 8: Str(b, ref p, fields, $"string length of '{key}'"); break;
                case 9:
                    {
                        uint et = U32(b, p); fields.Add(new(p, 4, $"element type of '{key}'")); p += 4;
                        ulong n = U64(b, p); fields.Add(new(p, 8, $"element count of '{key}'")); p += 8;
                        for (ulong i = 0; i < n; i++)
                        {
                            // Record the first and last few elements of long arrays; skip the rest quickly.
                            int mark = fields.Count;
                            Value(b, ref p, fields, $"{key}[{i}]", et);
                            if (i >= 4 && i + 4 < n) fields.RemoveRange(mark, fields.Count - mark);
                        }
                        break;
                    }
                default: throw new ArgumentOutOfRangeException(nameof(type));
            }
        }

        private static string Str(byte[] b, ref long p, List<Field> fields, string what)
        {
            ulong len = U64(b, p);
            string s = Encoding.UTF8.GetString(b, checked((int)p + 8), checked((int)len));
            fields.Add(new(p, 8, $"{what} ('{(s.Length > 40 ? s[..40] : s)}')"));
            p += 8 + (long)len;
            return s;
        }

        private static uint U32(byte[] b, long p) => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(checked((int)p), 4));
        private static ulong U64(byte[] b, long p) => BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(checked((int)p), 8));
    }
}
