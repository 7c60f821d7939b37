using System.Security.Cryptography;
using Cairn.Engine.Adapters;
using Cairn.Engine.Commitments;
using Cairn.Engine.Inference;
using Cairn.Engine.Sampling;

namespace Cairn.Engine.Verification;

/// <summary>
/// A sampling dispute's question to the referee: both sides fed the same tokens and agree on every layer up to the step
/// whose logits choose generated token <c>i = Generated.Length</c>, yet they emitted different tokens at <c>i</c> (or one
/// of them ended there). What is the correct continuation?
/// </summary>
public sealed record TokenCase
{
    public required int[] Prompt { get; init; }
    /// <summary>The agreed generated tokens before the disputed index (their count is the index).</summary>
    public required int[] Generated { get; init; }
    public required SamplingOptions Sampling { get; init; }
    /// <summary>The request's token limit (the context's room after the prompt also bounds it).</summary>
    public required int MaxTokens { get; init; }
    /// <summary>A stop string was completed by the text of <see cref="Generated"/> (the caller knows the stop strings).</summary>
    public bool StoppedByString { get; init; }
    public bool StopAtEndOfGeneration { get; init; } = true;
    /// <summary>
    /// The agreed output of the last layer at position <c>Prompt.Length + i − 1</c> (the hidden state the output head
    /// turns into the logits of token i), or null to have the referee compute it by a replay of the prefix.
    /// </summary>
    public float[]? FinalHidden { get; init; }
    /// <summary>SHA-256 both traces committed to for <see cref="FinalHidden"/>; required with it.</summary>
    public byte[]? AgreedFinalHash { get; init; }
    /// <summary>The request's LoRA adapters, in request order (used only by a replay of the prefix).</summary>
    public IReadOnlyList<LoraAdapter> Adapters { get; init; } = [];
}

/// <summary>The correct continuation at the disputed index: a token id, or <see cref="TokenReferee.End"/>.</summary>
public sealed record TokenRuling
{
    public required int Token { get; init; }
    /// <summary>Why: <c>length</c>, <c>stop</c> (an end-of-generation token), <c>stop-string</c> or <c>sampled</c>.</summary>
    public required string Reason { get; init; }
    /// <summary>SHA-256 of the hidden row the logits came from (null when generation had to end).</summary>
    public byte[]? HiddenHash { get; init; }
}

/// <summary>
/// Settles a sampling dispute (docs/verification.md §4): generation had to end before index <c>i</c> (token limit or
/// context, an end-of-generation token, a completed stop string), or the token at <c>i</c> is what the sampler picks
/// from the logits of the agreed final hidden state — output norm and head (<see cref="Transformer.ComputeLogits"/>),
/// then the sampler restored to its exact state at <c>i</c> (<see cref="Sampler.Resume"/>: the same history for the
/// repetition penalty, <c>i</c> draws of its stream). Cost: one output head and <c>i</c> RNG steps; with no agreed
/// hidden state (a side that ended has no trace of that step), one replay of the prefix.
/// </summary>
public static class TokenReferee
{
    /// <summary>"Generation ends here" in place of a token id.</summary>
    public const int End = -1;

    /// <summary>Why generation had to end before the disputed index (<c>length</c>, <c>stop</c>, <c>stop-string</c>), or null: no model run needed.</summary>
    public static string? MustEnd(Transformer transformer, TokenCase c)
    {
        int i = c.Generated.Length;
        if (i >= Math.Min(c.MaxTokens, transformer.Config.ContextLength - c.Prompt.Length)) return "length";
        var tokenizer = transformer.Model.Tokenizer;
        if (c.StopAtEndOfGeneration && tokenizer is not null && c.Generated.Any(tokenizer.IsEndOfGeneration)) return "stop";
        return c.StoppedByString ? "stop-string" : null;
    }

    public static TokenRuling Decide(Transformer transformer, TokenCase c)
    {
        var config = transformer.Config;
        int i = c.Generated.Length, prompt = c.Prompt.Length;
        if (prompt == 0) throw new RefereeException("the prompt is empty");
        if (c.MaxTokens < 0) throw new RefereeException($"max tokens {c.MaxTokens} is negative");
        if (prompt + i > config.ContextLength) throw new RefereeException($"{prompt} + {i} tokens exceed the model's context of {config.ContextLength}");
        foreach (int token in c.Prompt.Concat(c.Generated))
        {
            if ((uint)token >= (uint)config.VocabSize) throw new RefereeException($"token {token} is outside the vocabulary of {config.VocabSize}");
        }
        if (MustEnd(transformer, c) is { } reason) return new TokenRuling { Token = End, Reason = reason };

        int[] history = [.. c.Prompt, .. c.Generated];
        float[] hidden;
        if (c.FinalHidden is { } row)
        {
            if (row.Length != config.Dim) throw new RefereeException($"the hidden row has {row.Length} floats, the model's width is {config.Dim}");
            if (c.AgreedFinalHash is null || !SHA256.HashData(CanonicalFloats.Bytes(row)).AsSpan().SequenceEqual(c.AgreedFinalHash))
                throw new RefereeException($"the hidden row does not hash to the agreed output of layer {config.Layers - 1} at position {prompt + i - 1}");
            hidden = row;
        }
        else hidden = TraceExport.Replay(transformer, history, config.Layers - 1, c.Adapters).Captured![^1];

        var logits = new float[config.VocabSize];
        transformer.ComputeLogits(hidden, logits);
        int next = Sampler.Resume(c.Sampling, history, i).Sample(logits);
        return new TokenRuling { Token = next, Reason = "sampled", HiddenHash = SHA256.HashData(CanonicalFloats.Bytes(hidden)) };
    }
}
