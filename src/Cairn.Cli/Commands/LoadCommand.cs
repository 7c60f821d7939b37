using System.CommandLine;
using System.Globalization;
using Cairn.Cli.Load;

namespace Cairn.Cli.Commands;

/// <summary><c>cairn load</c>: a bounded load of streamed chat completions against an OpenAI-compatible API on loopback.</summary>
internal static class LoadCommand
{
    public static Command Create()
    {
        var url = new Option<string>("--url") { Description = "API base on loopback, e.g. http://127.0.0.1:8080/v1", Required = true };
        var apiKey = new Option<string?>("--api-key") { Description = "API key (sent as a Bearer token)" };
        var model = new Option<string>("--model", "-m") { Description = "The model name requests ask for", Required = true };
        var clients = new Option<int>("--clients", "-c") { Description = "Concurrent clients, each sending requests back to back", DefaultValueFactory = _ => 32 };
        var duration = new Option<double>("--duration", "-d") { Description = "Seconds during which new requests start (0: bounded by --requests only)", DefaultValueFactory = _ => 60 };
        var requests = new Option<int?>("--requests", "-n") { Description = "Requests in all at most" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "max_tokens of each request", DefaultValueFactory = _ => 32 };
        var temperature = new Option<double>("--temperature") { Description = "temperature of each request", DefaultValueFactory = _ => 0.7 };
        var prompt = new Option<string>("--prompt") { Description = "The user message of each request", DefaultValueFactory = _ => "Once upon a time" };
        var timeout = new Option<double>("--timeout") { Description = "Seconds after which one request counts as failed", DefaultValueFactory = _ => 120 };
        var receipts = new Option<int>("--receipts") { Description = "Against Cairn: receipts to look up for the per-provider share (0: none)", DefaultValueFactory = _ => 256 };
        var json = new Option<bool>("--json") { Description = "Print the summary as JSON" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress lines on standard error" };
        var command = new Command("load", "Send a bounded load of streamed chat completions to an OpenAI-compatible API on loopback and summarize it")
        {
            url, apiKey, model, clients, duration, requests, maxTokens, temperature, prompt, timeout, receipts, json, quiet,
        };
        command.SetAction((parse, cancel) => Task.FromResult(CliErrors.Run(() =>
        {
            if (!Uri.TryCreate(parse.GetValue(url), UriKind.Absolute, out var baseUrl))
                throw new ArgumentException($"--url '{parse.GetValue(url)}' is not an absolute URL");
            double seconds = parse.GetValue(duration);
            if (!double.IsFinite(seconds) || seconds < 0) throw new ArgumentException($"--duration {seconds} is out of range");
            double timeoutSeconds = parse.GetValue(timeout);
            if (!double.IsFinite(timeoutSeconds) || timeoutSeconds <= 0 || timeoutSeconds > 3600) throw new ArgumentException($"--timeout {timeoutSeconds} is out of range (more than 0, at most 3600)");
            var options = new LoadOptions
            {
                BaseUrl = baseUrl,
                ApiKey = parse.GetValue(apiKey),
                Model = parse.GetValue(model)!,
                Clients = parse.GetValue(clients),
                Duration = seconds > 0 ? TimeSpan.FromSeconds(seconds) : null,
                Requests = parse.GetValue(requests),
                MaxTokens = parse.GetValue(maxTokens),
                Temperature = parse.GetValue(temperature),
                Prompt = parse.GetValue(prompt)!,
                RequestTimeout = TimeSpan.FromSeconds(timeoutSeconds),
                ReceiptLookups = parse.GetValue(receipts),
                ProgressInterval = TimeSpan.FromSeconds(5),
            };
            options.Validate();
            // Synchronous progress: Progress<T> would post to the thread pool, which the load itself keeps busy.
            IProgress<LoadProgress>? progress = parse.GetValue(quiet) ? null : new ConsoleProgress();
            var report = LoadGenerator.RunAsync(options, progress, cancel).GetAwaiter().GetResult();
            Console.Out.Write(parse.GetValue(json) ? report.ToJson() + Environment.NewLine : report.Format());
            Console.Out.Flush();
            return report.Interrupted ? 130 : report.Failed > 0 ? 1 : 0;
        })));
        return command;
    }

    private sealed class ConsoleProgress : IProgress<LoadProgress>
    {
        public void Report(LoadProgress p) => Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {p.Elapsed.TotalSeconds,6:0.0} s  {p.Completed,7} done  {p.Failed,5} failed  {p.InFlight,4} in flight  {p.Tokens / Math.Max(p.Elapsed.TotalSeconds, 1e-9),8:0.0} tok/s"));
    }
}
