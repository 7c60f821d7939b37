using System.CommandLine;
using System.Globalization;
using Cairn.Engine.Adapters;
using Cairn.Engine.Generation;
using Cairn.Engine.Inference;
using Cairn.Engine.Models;
using Cairn.Engine.Sampling;
using Cairn.Engine.Tokenization;

namespace Cairn.Cli.Commands;

/// <summary>
/// <c>cairn run</c>: local generation. Streams the text to standard output, then one summary line to standard error:
/// <c>tokens=… prompt_tokens=… prefill_tok_s=… decode_tok_s=… stop=… seed=… [commitment=…] [logits=…]</c>.
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo?>("--model", "-m") { Description = "Model file: .gguf, or a llama2.c .bin with --tokenizer. Without it a small synthetic model is generated." };
        var tokenizer = new Option<FileInfo?>("--tokenizer") { Description = "llama2.c tokenizer .bin (only with a llama2.c checkpoint)" };
        var prompt = new Option<string>("--prompt", "-p") { Description = "Prompt text", DefaultValueFactory = _ => "Once upon a time" };
        var maxTokens = new Option<int>("--max-tokens", "-n") { Description = "Tokens to generate at most", DefaultValueFactory = _ => 128 };
        var temperature = new Option<float>("--temperature") { Description = "Sampling temperature; 0 is greedy", DefaultValueFactory = _ => 0.8f };
        var topK = new Option<int>("--top-k") { Description = "Keep the K most likely tokens (0: all)", DefaultValueFactory = _ => 40 };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling threshold (1: off)", DefaultValueFactory = _ => 0.95f };
        var minP = new Option<float>("--min-p") { Description = "Drop tokens below min-p times the best probability (0: off)", DefaultValueFactory = _ => 0.05f };
        var repeat = new Option<float>("--repeat-penalty") { Description = "Penalty for tokens among the last 64 (1: off)", DefaultValueFactory = _ => 1f };
        var seed = new Option<ulong?>("--seed", "-s") { Description = "Sampling seed (default: random, printed in the summary)" };
        var threads = new Option<int>("--threads", "-t") { Description = "Compute threads (never changes the output)", DefaultValueFactory = _ => Math.Min(Environment.ProcessorCount, 1024) };
        var commitment = new Option<bool>("--commitment") { Description = "Record per-layer hashes and print the output commitment" };
        var prefillChunk = new Option<int>("--prefill-chunk") { Description = "Prompt tokens per forward pass, 0 for all (never changes the output)", DefaultValueFactory = _ => 0 };
        var batch = new Option<int>("--batch") { Description = "Decode alongside N-1 other sequences in one batch, to show it changes nothing", DefaultValueFactory = _ => 1 };
        var splits = new Option<string?>("--layer-split") { Description = "Run the layers in ranges cut at these comma-separated boundaries, as pipeline stages would (never changes the output)" };
        var logitsHash = new Option<bool>("--logits-hash") { Description = "Print the SHA-256 of every logits vector sampled from" };
        var adapters = new Option<FileInfo[]>("--adapter") { Description = "LoRA adapter GGUF to apply (repeatable; applied in the order given)", AllowMultipleArgumentsPerToken = false };
        var command = new Command("run", "Generate text locally with a model")
        {
            model, tokenizer, prompt, maxTokens, temperature, topK, topP, minP, repeat, seed, threads, commitment, prefillChunk, batch, splits, logitsHash, adapters,
        };
        command.SetAction((parse, cancel) => Task.FromResult(CliErrors.Run(() =>
        {
            var sampling = new SamplingOptions
            {
                Temperature = parse.GetValue(temperature),
                TopK = parse.GetValue(topK),
                TopP = parse.GetValue(topP),
                MinP = parse.GetValue(minP),
                RepeatPenalty = parse.GetValue(repeat),
                Seed = parse.GetValue(seed) ?? (ulong)Random.Shared.NextInt64(),
            };
            return Run(new RunArguments(parse.GetValue(model)?.FullName, parse.GetValue(tokenizer)?.FullName, parse.GetValue(prompt)!,
                parse.GetValue(maxTokens), sampling, parse.GetValue(threads), parse.GetValue(commitment), parse.GetValue(prefillChunk),
                parse.GetValue(batch), ParseSplits(parse.GetValue(splits)), parse.GetValue(logitsHash),
                (parse.GetValue(adapters) ?? []).Select(f => f.FullName).ToArray()), cancel);
        })));
        return command;
    }

    private sealed record RunArguments(string? Model, string? Tokenizer, string Prompt, int MaxTokens, SamplingOptions Sampling,
        int Threads, bool Commitment, int PrefillChunk, int Batch, int[] LayerSplits, bool LogitsHash, string[] Adapters);

    private static int[] ParseSplits(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return [];
        return text.Split(',').Select(part => int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int v)
            ? v : throw new ArgumentException($"--layer-split '{text}' is not a comma-separated list of layer numbers")).ToArray();
    }

    private static int Run(RunArguments a, CancellationToken cancel)
    {
        string? error = a.Sampling.Validate()
            ?? (a.MaxTokens < 0 ? $"--max-tokens {a.MaxTokens} is negative" : null)
            ?? (a.Threads is < 1 or > 1024 ? $"--threads {a.Threads} is out of range (1 to 1024)" : null)
            ?? (a.PrefillChunk < 0 ? $"--prefill-chunk {a.PrefillChunk} is negative" : null)
            ?? (a.Batch is < 1 or > 64 ? $"--batch {a.Batch} is out of range (1 to 64)" : null);
        if (error != null) throw new ArgumentException(error);

        string? temp = null;
        string path = a.Model ?? (temp = MakeSyntheticModel());
        try
        {
            using var model = CliProgress.Run($"loading {Path.GetFileName(path)}", () => Model.Load(path, a.Tokenizer));
            var tok = model.Tokenizer ?? throw new InvalidOperationException($"{path}: the file has no tokenizer (tokenizer.ggml.* metadata)");
            int[] prompt = tok.Encode(a.Prompt, tok.AddBos, parseSpecial: true);
            if (prompt.Length == 0) throw new ArgumentException("the prompt is empty and the model adds no BOS token");
            var prompts = new List<int[]> { prompt };
            for (int k = 1; k < a.Batch; k++) prompts.Add(prompt[..Math.Max(1, prompt.Length - k)]);

            var adapters = a.Adapters.Select(LoraAdapter.Load).ToArray();
            foreach (var adapter in adapters)
            {
                if (adapter.Misfit(model.Config) is { } misfit) throw new ArgumentException(misfit);
            }
            var transformer = new Transformer(model, a.Threads);
            var generator = new Generator(transformer);
            var options = new GenerationOptions { MaxTokens = a.MaxTokens, Sampling = a.Sampling, PrefillChunk = a.PrefillChunk, Commitment = a.Commitment, LayerSplits = a.LayerSplits, Adapters = adapters };
            var decoder = new StreamingDecoder(tok);
            var stdout = Console.Out;
            var results = generator.GenerateBatch(prompts, options, (seq, token) =>
            {
                if (seq != 0 || tok.IsEndOfGeneration(token)) return;
                stdout.Write(decoder.Push(token));
                stdout.Flush();
            }, cancel);
            stdout.Write(decoder.Flush());
            stdout.WriteLine();
            stdout.Flush();

            var r = results[0];
            var line = new List<string>
            {
                $"tokens={r.Tokens.Length}",
                $"prompt_tokens={r.PromptTokens.Length}",
                $"prefill_tok_s={Rate(r.PromptTokens.Length * prompts.Count, r.PrefillTime)}",
                $"decode_tok_s={Rate(results.Sum(x => x.Tokens.Length), r.DecodeTime)}",
                $"stop={r.StopReason}",
                $"seed={a.Sampling.Seed}",
                $"threads={a.Threads}",
            };
            if (r.OutputCommitment != null) line.Add($"commitment={Convert.ToHexStringLower(r.OutputCommitment)}");
            if (a.LogitsHash) line.Add($"logits={Convert.ToHexStringLower(r.LogitsHash)}");
            line.Add($"generated={string.Join(',', r.Tokens)}");
            Console.Error.WriteLine(string.Join(' ', line));
            return 0;
        }
        finally
        {
            if (temp != null) File.Delete(temp);
        }
    }

    private static string Rate(int tokens, TimeSpan time) =>
        (time.TotalSeconds > 0 ? tokens / time.TotalSeconds : 0).ToString("F1", CultureInfo.InvariantCulture);

    private static string MakeSyntheticModel()
    {
        string path = Path.Combine(Path.GetTempPath(), $"cairn-synthetic-{Environment.ProcessId}.gguf");
        var spec = new SyntheticModelSpec();
        Console.Error.WriteLine($"cairn: no --model given: using a synthetic model with random weights ({spec.Architecture}, dim {spec.Dim}, " +
            $"{spec.Layers} layers, {spec.WeightType}, seed {spec.Seed}); its text is gibberish. Pass --model FILE.gguf for a real model.");
        SyntheticModel.Write(path, spec);
        return path;
    }
}
