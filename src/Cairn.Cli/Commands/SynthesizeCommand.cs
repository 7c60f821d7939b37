using System.CommandLine;
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
        var command = new Command("synthesize", "Write a GGUF model with random weights of a given shape and type")
        {
            output, arch, type, dim, hidden, layers, heads, kvHeads, vocab, context, tied, seed,
        };
        command.SetAction(parse => CliErrors.Run(() =>
        {
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
