using System.CommandLine;
using Cairn.Engine.Adapters;
using Cairn.Engine.Models;
using Cairn.Engine.Tensors;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn synthesize</c>: writes a GGUF model with random weights of a chosen shape and type (for tests and benchmarks).</summary>
internal static class SynthesizeCommand
{
    public static Command Create()
    {
        var output = new Option<FileInfo>("--output", "-o") { Description = "GGUF file to write", Required = true };
        var arch = new Option<string>("--architecture") { Description = "llama or qwen2", DefaultValueFactory = _ => "llama" };
        arch.AcceptOnlyFromAmong("llama", "qwen2");
        var type = new Option<GgmlType>("--type") { Description = "Weight type: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K", DefaultValueFactory = _ => GgmlType.Q8_0 };
        var dim = new Option<int>("--dim") { Description = "Embedding length", DefaultValueFactory = _ => 256 };
        var hidden = new Option<int>("--hidden") { Description = "Feed-forward length", DefaultValueFactory = _ => 768 };
        var layers = new Option<int>("--layers") { Description = "Transformer blocks", DefaultValueFactory = _ => 4 };
        var heads = new Option<int>("--heads") { Description = "Attention heads", DefaultValueFactory = _ => 8 };
        var kvHeads = new Option<int>("--kv-heads") { Description = "Key/value heads", DefaultValueFactory = _ => 4 };
        var vocab = new Option<int>("--vocab") { Description = $"Vocabulary size (at least {SyntheticModel.MinimumVocabSize})", DefaultValueFactory = _ => SyntheticModel.MinimumVocabSize };
        var context = new Option<int>("--context") { Description = "Context length", DefaultValueFactory = _ => 2048 };
        var tied = new Option<bool>("--tied") { Description = "Share the token embedding as the output head" };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the random weights", DefaultValueFactory = _ => 1 };
        var loraFor = new Option<FileInfo?>("--lora-for") { Description = "Write a LoRA adapter (llama.cpp's GGUF format) with random low-rank matrices for this base model instead of a model" };
        var loraRank = new Option<int>("--lora-rank") { Description = "Rank r of the adapter", DefaultValueFactory = _ => 4 };
        var loraAlpha = new Option<float>("--lora-alpha") { Description = "adapter.lora.alpha (scale = alpha / r)", DefaultValueFactory = _ => 8f };
        var loraTargets = new Option<string>("--lora-targets") { Description = "Comma-separated matrices to adapt: attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_down, ffn_up", DefaultValueFactory = _ => "attn_q,attn_v,ffn_up" };
        var command = new Command("synthesize", "Write a GGUF model with random weights of a given shape and type, or a LoRA adapter for a model (--lora-for)")
        {
            output, arch, type, dim, hidden, layers, heads, kvHeads, vocab, context, tied, seed, loraFor, loraRank, loraAlpha, loraTargets,
        };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            if (parse.GetValue(loraFor) is { } baseModel)
            {
                using var model = Model.Load(baseModel.FullName);
                var targets = parse.GetValue(loraTargets)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                    .Select(n => Enum.GetValues<LoraTarget>().FirstOrDefault(t => LoraAdapter.TensorName(t) == n, (LoraTarget)(-1)) is var t && t >= 0
                        ? t : throw new ArgumentException($"--lora-targets: '{n}' is not one of attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_down, ffn_up")).ToArray();
                int rank = parse.GetValue(loraRank);
                if (rank is < 1 or > LoraAdapter.MaxRank) throw new ArgumentException($"--lora-rank {rank} is out of range (1 to {LoraAdapter.MaxRank})");
                string adapterPath = parse.GetValue(output)!.FullName;
                SyntheticLora.Write(adapterPath, model.Config, new SyntheticLoraSpec { Targets = targets, Rank = rank, Alpha = parse.GetValue(loraAlpha), Seed = parse.GetValue(seed) });
                Console.Error.WriteLine($"wrote {adapterPath} ({new FileInfo(adapterPath).Length:N0} bytes): LoRA rank {rank} on {string.Join(',', targets.Select(LoraAdapter.TensorName))} for {baseModel.Name}");
                return 0;
            }
            var t = parse.GetValue(type);
            if (!GgmlTypeInfo.IsSupported(t)) throw new ArgumentException($"--type {t} is not supported (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K)");
            int block = GgmlTypeInfo.BlockSize(t);
            if (parse.GetValue(dim) % block != 0 || parse.GetValue(hidden) % block != 0)
                throw new ArgumentException($"--dim and --hidden must be multiples of {block} for {t}");
            var spec = new SyntheticModelSpec
            {
                Architecture = parse.GetValue(arch)!,
                WeightType = t,
                Dim = parse.GetValue(dim),
                HiddenDim = parse.GetValue(hidden),
                Layers = parse.GetValue(layers),
                Heads = parse.GetValue(heads),
                KvHeads = parse.GetValue(kvHeads),
                VocabSize = parse.GetValue(vocab),
                ContextLength = parse.GetValue(context),
                TiedOutput = parse.GetValue(tied),
                Seed = parse.GetValue(seed),
            };
            string path = parse.GetValue(output)!.FullName;
            CliProgress.Run($"writing {path}", () => SyntheticModel.Write(path, spec), () => CliProgress.FileSize(path));
            Console.Error.WriteLine($"wrote {path} ({new FileInfo(path).Length:N0} bytes): {spec.Architecture} {t}, dim {spec.Dim}, {spec.Layers} layers, vocab {spec.VocabSize}");
            return 0;
        }));
        return command;
    }
}
