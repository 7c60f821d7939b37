namespace Cairn.Engine.Inference;

/// <summary>One token of a batch: the session it belongs to and its position in that session.</summary>
public readonly record struct BatchItem(Session Session, int Position);
