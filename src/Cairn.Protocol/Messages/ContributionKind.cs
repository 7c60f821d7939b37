namespace Cairn.Protocol.Messages;

/// <summary>What a <see cref="ContributionEntry"/> registers. The numbers are part of the encoding.</summary>
public enum ContributionKind : byte
{
    /// <summary>A base model (a GGUF model file).</summary>
    Model = 1,
    /// <summary>A LoRA adapter (a GGUF adapter file, llama.cpp's format) for one base model.</summary>
    Adapter = 2,
}
