using Cairn.Engine.Gguf;

namespace Cairn.Engine.Tokenization;

/// <summary>
/// Reading the vocabulary from GGUF, following llama.cpp's <c>llama_vocab::impl::load</c>:
/// <code>
/// tokenizer.ggml.model        string    "llama" (SentencePiece) | "gpt2" (byte-level BPE)
/// tokenizer.ggml.tokens       string[n] token texts (n ≥ 1; an empty text becomes "[EMPTY_i]"; texts must be unique)
/// tokenizer.ggml.scores       f32[n]    optional, SentencePiece merge priorities
/// tokenizer.ggml.token_type   i32[n]    optional: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
/// tokenizer.ggml.*_token_id   u32       optional special ids, each &lt; n
/// tokenizer.ggml.add_bos_token / add_space_prefix   bool, optional
/// </code>
/// Unlike llama.cpp, an explicit special id out of range is an error rather than a warning.
/// </summary>
internal sealed partial class Vocabulary
{
    public const int MaxTokens = 1 << 24;

    public static Vocabulary FromGguf(GgufFile file, bool sentencePiece, bool addBosDefault)
    {
        string[] tokens = file.TryGetArray<string>("tokenizer.ggml.tokens")
            ?? throw new GgufFormatException($"{file.Path}: required metadata 'tokenizer.ggml.tokens' is missing");
        int n = tokens.Length;
        if (n == 0) throw new GgufFormatException($"{file.Path}: 'tokenizer.ggml.tokens' is empty (a vocabulary needs at least one token)");
        if (n > MaxTokens) throw new GgufFormatException($"{file.Path}: 'tokenizer.ggml.tokens' has {n} entries (allowed 1 to {MaxTokens})");

        float[]? scores = file.TryGetArray<float>("tokenizer.ggml.scores");
        if (scores != null && scores.Length != n)
            throw new GgufFormatException($"{file.Path}: 'tokenizer.ggml.scores' has {scores.Length} entries but 'tokenizer.ggml.tokens' has {n}");
        int[]? types = file.TryGetIntArray("tokenizer.ggml.token_type");
        if (types != null && types.Length != n)
            throw new GgufFormatException($"{file.Path}: 'tokenizer.ggml.token_type' has {types.Length} entries but 'tokenizer.ggml.tokens' has {n}");

        var texts = new string[n];
        var attributes = new TokenAttributes[n];
        var seen = new Dictionary<string, int>(n, StringComparer.Ordinal);
        for (int i = 0; i < n; i++)
        {
            string text = string.IsNullOrEmpty(tokens[i]) ? $"[EMPTY_{i}]" : tokens[i];
            if (!seen.TryAdd(text, i))
                throw new GgufFormatException($"{file.Path}: 'tokenizer.ggml.tokens' holds \"{text}\" twice (ids {seen[text]} and {i}); token texts must be unique");
            texts[i] = text;
            attributes[i] = types is null ? TokenAttributes.Normal : GgufTokenType.ToAttributes(types[i]);
        }

        var v = new Vocabulary { Texts = texts, Scores = scores ?? new float[n], Attributes = attributes };
        v.BosId = sentencePiece ? 1 : 11;
        v.EosId = sentencePiece ? 2 : 11;
        v.UnkId = sentencePiece ? 0 : -1;
        v.AddBos = addBosDefault;
        v.AddSpacePrefix = file.TryGetBool("tokenizer.ggml.add_space_prefix") ?? sentencePiece;
        v.AddBos = file.TryGetBool("tokenizer.ggml.add_bos_token") ?? v.AddBos;

        v.BosId = SpecialId(file, "tokenizer.ggml.bos_token_id", n) ?? Defaulted(v.BosId, n);
        v.EosId = SpecialId(file, "tokenizer.ggml.eos_token_id", n) ?? Defaulted(v.EosId, n);
        v.UnkId = SpecialId(file, "tokenizer.ggml.unknown_token_id", n) ?? Defaulted(v.UnkId, n);
        v.ApplyTextConventions(file, seen);
        v.BuildSpecialTokens();
        v.ApplyModelQuirks(file, seen);
        return v;
    }

    private static int Defaulted(int id, int n) => id < n ? id : -1;

    private static int? SpecialId(GgufFile file, string key, int n)
    {
        long? id = file.TryGetInteger(key);
        if (id is null) return null;
        if (id < 0 || id >= n) throw new GgufFormatException($"{file.Path}: '{key}' is {id} (allowed 0 to {n - 1}, the vocabulary size less one)");
        return (int)id.Value;
    }

    /// <summary>llama.cpp finds EOT/EOM/FIM tokens by their text when no id is given, forces them to control type, and builds the end-of-generation set.</summary>
    private void ApplyTextConventions(GgufFile file, Dictionary<string, int> ids)
    {
        int n = Count;
        int? eot = SpecialId(file, "tokenizer.ggml.eot_token_id", n);
        int? eom = SpecialId(file, "tokenizer.ggml.eom_token_id", n);
        int? fimPad = SpecialId(file, "tokenizer.ggml.fim_pad_token_id", n);
        int? fimRep = SpecialId(file, "tokenizer.ggml.fim_rep_token_id", n);
        int? fimSep = SpecialId(file, "tokenizer.ggml.fim_sep_token_id", n);
        int? fimPre = SpecialId(file, "tokenizer.ggml.fim_pre_token_id", n) ?? SpecialId(file, "tokenizer.ggml.prefix_token_id", n);
        int? fimSuf = SpecialId(file, "tokenizer.ggml.fim_suf_token_id", n) ?? SpecialId(file, "tokenizer.ggml.suffix_token_id", n);
        int? fimMid = SpecialId(file, "tokenizer.ggml.fim_mid_token_id", n) ?? SpecialId(file, "tokenizer.ggml.middle_token_id", n);

        // Scanned in id order (llama.cpp walks a hash map, so its pick among several candidates is unspecified).
        eot ??= FindControl(TextConventions.Eot);
        eom ??= FindControl(TextConventions.Eom);
        fimPre ??= FindControl(TextConventions.FimPre);
        fimSuf ??= FindControl(TextConventions.FimSuf);
        fimMid ??= FindControl(TextConventions.FimMid);
        fimPad ??= FindControl(TextConventions.FimPad);
        fimRep ??= FindControl(TextConventions.FimRep);
        fimSep ??= FindControl(TextConventions.FimSep);
        EotId = eot;

        for (int id = 0; id < n; id++)
        {
            if ((Attributes[id] & TokenAttributes.Control) != 0 && (Attributes[id] & TokenAttributes.Unused) == 0
                && Texts[id].Contains("unused", StringComparison.Ordinal))
                Attributes[id] |= TokenAttributes.Unused;
        }

        foreach (int? id in new[] { fimPad, fimRep, fimSep })
        {
            if (id is int i) EndOfGeneration.Add(i);
        }
        foreach (string text in TextConventions.EndOfGeneration)
        {
            if (ids.TryGetValue(text, out int id))
            {
                EndOfGeneration.Add(id);
                Attributes[id] |= TokenAttributes.Control;
            }
        }
        foreach (string text in TextConventions.AlwaysRendered)
        {
            if (ids.TryGetValue(text, out int id)) Attributes[id] |= TokenAttributes.UserDefined;
        }
        if (EosId >= 0) EndOfGeneration.Add(EosId);
        if (eot is int t) EndOfGeneration.Add(t);
        if (eom is int m) EndOfGeneration.Add(m);

        // o200k_harmony / solar-open: "<|end|>" ends a message, not the generation, when return/call or calls/flush exist.
        bool has(string s) => EndOfGeneration.Any(id => Texts[id] == s);
        if (ids.TryGetValue("<|end|>", out int end) && EndOfGeneration.Contains(end)
            && ((has("<|return|>") && (has("<|call|>") || has("<|calls|>"))) || (has("<|calls|>") && has("<|flush|>"))))
        {
            EndOfGeneration.Remove(end);
            Attributes[end] |= TokenAttributes.UserDefined;
        }

        int? FindControl(string[] candidates)
        {
            for (int id = 0; id < n; id++)
            {
                if (Array.IndexOf(candidates, Texts[id]) < 0) continue;
                Attributes[id] |= TokenAttributes.Control;
                return id;
            }
            return null;
        }
    }

    /// <summary>Per-model strip attributes llama.cpp sets by name (phi-3 right-strips after special tokens).</summary>
    private void ApplyModelQuirks(GgufFile file, Dictionary<string, int> ids)
    {
        string name = (file.TryGetString("general.name") ?? "").ToLowerInvariant();
        string pre = file.TryGetString("tokenizer.ggml.pre") ?? "";
        string arch = file.TryGetString("general.architecture") ?? "";
        if (pre is "jina-v2-de" or "jina-v2-es" or "jina-v2-code" || arch is "nomic-bert-moe" or "jina-bert-v3")
        {
            if (ids.TryGetValue("<mask>", out int mask)) Attributes[mask] |= TokenAttributes.LStrip;
        }
        else if (name.Contains("phi-3", StringComparison.Ordinal) || name.Contains("phi3", StringComparison.Ordinal))
        {
            foreach (int id in SpecialTokens) Attributes[id] |= TokenAttributes.RStrip;
            if (ids.TryGetValue("</s>", out int eos)) Attributes[eos] |= TokenAttributes.RStrip;
            foreach (string s in new[] { "<unk>", "<s>", "<|endoftext|>" })
            {
                if (ids.TryGetValue(s, out int id)) Attributes[id] &= ~TokenAttributes.RStrip;
            }
        }
    }
}
