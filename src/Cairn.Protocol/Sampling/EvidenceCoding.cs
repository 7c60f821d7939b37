using Cairn.Protocol.Crypto;
using Cairn.Protocol.Encoding;
using Cairn.Protocol.Messages;

namespace Cairn.Protocol.Sampling;

/// <summary>The token-id and hash lists both kinds of dispute evidence encode: a u32 count, then the elements (i32 / 32 bytes).</summary>
internal static class EvidenceCoding
{
    public static void WriteIds(CanonicalWriter w, IReadOnlyList<int> ids)
    {
        w.WriteCount(ids.Count, "tokens");
        foreach (int id in ids) w.WriteCount(id, "token");
    }

    public static void WriteHashes(CanonicalWriter w, IReadOnlyList<Hash256> hashes)
    {
        w.WriteCount(hashes.Count, "hashes");
        foreach (var h in hashes) w.WriteHash(h);
    }

    public static int[] ReadIds(ref CanonicalReader r, string field)
    {
        int n = r.ReadCount(field, InferenceRequest.MaxPromptTokens, 4);
        var ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = r.ReadInt(field);
        return ids;
    }

    public static Hash256[] ReadHashes(ref CanonicalReader r, string field, int max)
    {
        int n = r.ReadCount(field, max, Hash256.Size);
        var hashes = new Hash256[n];
        for (int i = 0; i < n; i++) hashes[i] = r.ReadHash(field);
        return hashes;
    }
}
