namespace Cairn.Engine.Gguf;

/// <summary>A model file is malformed, hostile or not what the engine expects. The message names the file, the field and what was expected.</summary>
public sealed class GgufFormatException(string message) : Exception(message);
