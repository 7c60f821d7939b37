namespace Cairn.Planner;

/// <summary>
/// What one transformer block costs. <see cref="WeightBytes"/> is the stored size of every <c>blk.N.*</c> tensor
/// (what a device holds and, in memory-bound decode, reads once per token); <see cref="FlopsPerToken"/> is
/// 2 × the parameters of its matrices; attention adds <see cref="AttentionFlopsPerPosition"/> for every cached
/// position; the KV cache holds <see cref="KvBytesPerPosition"/> per position (f32 K and V).
/// </summary>
public sealed record LayerProfile(long WeightBytes, double FlopsPerToken, double AttentionFlopsPerPosition, long KvBytesPerPosition)
{
    /// <summary>KV-cache bytes for a context of <paramref name="context"/> positions.</summary>
    public long KvBytes(int context) => KvBytesPerPosition * context;
}
