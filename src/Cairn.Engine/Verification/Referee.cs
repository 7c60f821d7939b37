using System.Diagnostics;
using System.Security.Cryptography;
using Cairn.Engine.Adapters;
using Cairn.Engine.Commitments;
using Cairn.Engine.Inference;

namespace Cairn.Engine.Verification;

/// <summary>
/// A dispute's question to the referee (DESIGN.md §4.4): the tokens at positions 0..<see cref="Step"/>, the disputed
/// layer, and the agreed inputs of that layer for positions 0..Step — the outputs of layer <c>Layer − 1</c> (Step + 1
/// rows of dim floats), with the hashes both parties committed to for them. For layer 0 the inputs are the token
/// embeddings, which the referee looks up itself: <see cref="Inputs"/> and <see cref="AgreedInputHashes"/> are then null.
/// </summary>
public sealed record RefereeCase
{
    /// <summary>Token ids at positions 0..Step at least (prompt, then generated); only the first Step + 1 are used.</summary>
    public required int[] Tokens { get; init; }
    public required int Step { get; init; }
    public required int Layer { get; init; }
    public float[][]? Inputs { get; init; }
    /// <summary>SHA-256 of layer <c>Layer − 1</c>'s output at positions 0..Step, as both traces committed them.</summary>
    public byte[][]? AgreedInputHashes { get; init; }
    /// <summary>The request's LoRA adapters, in request order (empty: the base model).</summary>
    public IReadOnlyList<LoraAdapter> Adapters { get; init; } = [];
}

/// <summary>The referee's answer: the correct hash of the disputed layer at the disputed step.</summary>
public sealed record RefereeResult
{
    public required byte[] Hash { get; init; }
    /// <summary>SHA-256 over the canonical fp32 bytes of all inputs, rows in position order (empty input for layer 0: SHA-256("")).</summary>
    public required byte[] InputsHash { get; init; }
    /// <summary>Positions the one layer was run for (Step + 1).</summary>
    public required int Positions { get; init; }
    public required TimeSpan Elapsed { get; init; }
}

/// <summary>The supplied inputs are not the agreed ones, or the case is malformed.</summary>
public sealed class RefereeException(string message) : Exception(message);

/// <summary>
/// Recomputes only the disputed layer for positions 0..t from the agreed inputs, in a fresh session (the layer's KV
/// cache for positions 0..t−1 is rebuilt from the same inputs, so attention at t sees exactly what an honest run saw).
/// The determinism contract (DESIGN.md §3) makes the result independent of batching, so one batch of t + 1 rows gives
/// the bits an honest decode gave. Cost: one layer over t + 1 positions, instead of every layer of every step.
/// </summary>
public static class Referee
{
    public static RefereeResult Recompute(Transformer transformer, RefereeCase c)
    {
        var config = transformer.Config;
        int l = c.Layer, t = c.Step, dim = config.Dim, n = t + 1;
        if ((uint)l >= (uint)config.Layers) throw new RefereeException($"layer {l} is outside the model's {config.Layers} layers");
        if (t < 0 || t >= config.ContextLength) throw new RefereeException($"step {t} is outside the model's context of {config.ContextLength}");
        if (c.Tokens.Length < n) throw new RefereeException($"step {t} needs {n} tokens, the case has {c.Tokens.Length}");

        var clock = Stopwatch.StartNew();
        var hidden = new float[n * dim];
        using var inputsHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        if (l == 0)
        {
            if (c.Inputs is not null || c.AgreedInputHashes is not null) throw new RefereeException("layer 0's inputs are the token embeddings; none may be supplied");
            transformer.Embed(c.Tokens.AsSpan(0, n), hidden);
        }
        else
        {
            if (c.Inputs is null || c.Inputs.Length != n) throw new RefereeException($"layer {l} at step {t} needs {n} input rows, got {c.Inputs?.Length ?? 0}");
            if (c.AgreedInputHashes is null || c.AgreedInputHashes.Length != n) throw new RefereeException($"layer {l} at step {t} needs {n} agreed input hashes, got {c.AgreedInputHashes?.Length ?? 0}");
            for (int i = 0; i < n; i++)
            {
                var row = c.Inputs[i];
                if (row.Length != dim) throw new RefereeException($"input row {i} has {row.Length} floats, the model's width is {dim}");
                var bytes = CanonicalFloats.Bytes(row);
                if (!SHA256.HashData(bytes).AsSpan().SequenceEqual(c.AgreedInputHashes[i]))
                    throw new RefereeException($"input row {i} does not hash to the agreed output of layer {l - 1} at position {i}");
                inputsHash.AppendData(bytes);
                row.CopyTo(hidden, i * dim);
            }
        }

        var session = transformer.CreateSession(capacity: n, trace: true, adapters: c.Adapters);
        for (int start = 0; start < n; start += Transformer.MaxBatchTokens)
        {
            int count = Math.Min(Transformer.MaxBatchTokens, n - start);
            var batch = new BatchItem[count];
            for (int i = 0; i < count; i++) batch[i] = new BatchItem(session, start + i);
            transformer.RunLayers(l, l + 1, batch, hidden.AsSpan(start * dim, count * dim));
        }
        var hash = session.Trace!.LayerHash(t, l)!;
        return new RefereeResult { Hash = hash, InputsHash = inputsHash.GetHashAndReset(), Positions = n, Elapsed = clock.Elapsed };
    }
}
