namespace Cairn.Engine.Models;

/// <summary>
/// What distinguishes one supported architecture from another. To add a Llama-like architecture, add a line here
/// (and tensors it needs to <see cref="GgufModelLoader"/>); see ARCHITECTURE.md.
/// </summary>
internal sealed record ArchitectureTraits(string Name, RopeStyle Rope, bool QkvBias)
{
    private static readonly ArchitectureTraits[] All =
    [
        new("llama", RopeStyle.Normal, QkvBias: false),   // Llama 2/3, TinyLlama, SmolLM, Mistral
        new("qwen2", RopeStyle.NeoX, QkvBias: true),
    ];

    public static IEnumerable<string> Names => All.Select(a => a.Name);

    public static ArchitectureTraits? For(string name) => Array.Find(All, a => a.Name == name);
}
