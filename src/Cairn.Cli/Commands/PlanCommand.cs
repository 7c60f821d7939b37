using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Cairn.Planner;

namespace Cairn.Cli.Commands;

/// <summary>
/// <c>cairn plan --model FILE --devices devices.json</c>: splits a model's layers into a pipeline across devices
/// (docs/pipeline-planner.md) and compares the plan with an even and a memory-proportional split.
/// </summary>
internal static class PlanCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model", "-m") { Description = "GGUF model to split", Required = true };
        var devices = new Option<FileInfo>("--devices", "-d")
        {
            Description = "JSON file: {\"devices\": [{\"id\", \"memoryBytes\", \"decodeBytesPerSecond\", \"prefillFlopsPerSecond\", \"linkLatencySeconds\", \"linkBandwidthBytesPerSecond\"}, …]}",
            Required = true,
        };
        var objective = new Option<string>("--objective") { Description = "latency: fastest tokens for one stream; throughput: most tokens/s over many streams", DefaultValueFactory = _ => "latency" };
        objective.AcceptOnlyFromAmong("latency", "throughput");
        var context = new Option<int?>("--context") { Description = "KV-cache positions each stage reserves (default: the model's context length)" };
        var solver = new Option<string>("--solver") { Description = "dp: dynamic programming; ip: OR-Tools integer program; both: DP, cross-checked by the IP", DefaultValueFactory = _ => "dp" };
        solver.AcceptOnlyFromAmong("dp", "ip", "both");
        var last = new Option<string?>("--last-stage") { Description = "Device that must run the last stage (integer program only)" };
        var apart = new Option<string[]>("--not-adjacent") { Description = "A,B: devices whose stages must not follow one another (integer program only; repeatable)" };
        var prompt = new Option<int>("--prompt-tokens") { Description = "Prompt length for the predicted prefill time", DefaultValueFactory = _ => 128 };
        var json = new Option<bool>("--json") { Description = "Print the plan, the verdicts and the baselines as JSON" };
        var command = new Command("plan", "Split a model into pipeline stages across heterogeneous devices")
        {
            model, devices, objective, context, solver, last, apart, prompt, json,
        };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            try
            {
                var constraints = new PlanConstraints
                {
                    LastStageDevice = parse.GetValue(last),
                    NotAdjacent = [.. (parse.GetValue(apart) ?? []).Select(Pair)],
                };
                string solverName = parse.GetValue(solver)!;
                if (!constraints.IsEmpty && solverName != "ip") throw new PlannerInputException("--last-stage and --not-adjacent need --solver ip (the DP cannot express them)");
                int? ctx = parse.GetValue(context);
                if (ctx is <= 0) throw new PlannerInputException($"--context {ctx} must be positive");
                int promptTokens = parse.GetValue(prompt);
                if (promptTokens <= 0) throw new PlannerInputException($"--prompt-tokens {promptTokens} must be positive");
                var options = new PlanOptions
                {
                    Objective = parse.GetValue(objective) == "throughput" ? PlanObjective.MaxThroughput : PlanObjective.MinLatency,
                    ContextLength = ctx,
                    Solver = solverName == "ip" ? PlanSolver.Ip : PlanSolver.Dp,
                    Constraints = constraints,
                    PromptTokens = promptTokens,
                };
                string modelPath = parse.GetValue(model)!.FullName;
                if (!File.Exists(modelPath)) throw new PlannerInputException($"no such model file: {modelPath}");
                return Run(ModelProfile.FromGguf(modelPath), DeviceFile.Load(parse.GetValue(devices)!.FullName), options, solverName == "both", parse.GetValue(json));
            }
            catch (PlannerInputException e)
            {
                Console.Error.WriteLine($"cairn: error: {e.Message}");
                return 2;
            }
        }));
        return command;
    }

    private static (string, string) Pair(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        return parts.Length == 2 && parts[0].Length > 0 && parts[1].Length > 0
            ? (parts[0], parts[1]) : throw new PlannerInputException($"--not-adjacent '{text}' must be two device ids separated by a comma");
    }

    private static int Run(ModelProfile model, IReadOnlyList<DeviceProfile> devices, PlanOptions options, bool crossCheck, bool json)
    {
        var plan = Planner.Planner.Plan(model, devices, options);
        Plan? ip = crossCheck ? IpPlanner.Plan(model, devices, options) : null;
        Plan[] baselines = [Baselines.EvenSplit(model, devices, options), Baselines.MemoryProportionalSplit(model, devices, options)];
        bool agree = ip is null || Agree(plan, ip);
        Console.Out.Write(json ? Json(model, plan, ip, agree, baselines) : Text(model, plan, ip, agree, baselines));
        if (!agree) Console.Error.WriteLine($"cairn: error: the DP and the integer program disagree ({plan.ObjectiveSeconds:R} s vs {ip!.ObjectiveSeconds:R} s)");
        return agree ? 0 : 1;
    }

    private static bool Agree(Plan dp, Plan ip) =>
        Math.Abs(dp.ObjectiveSeconds - ip.ObjectiveSeconds) <= 1e-6 * Math.Max(dp.ObjectiveSeconds, ip.ObjectiveSeconds) && dp.DeviceCount == ip.DeviceCount;

    private static string Text(ModelProfile model, Plan plan, Plan? ip, bool agree, Plan[] baselines)
    {
        var o = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        o.AppendLine(c, $"model: {model.Name}, {model.LayerCount} layers, {model.TotalWeightBytes:N0} bytes of weights; context {plan.ContextLength}");
        o.AppendLine(c, $"plan ({plan.Method}, objective {(plan.Objective == PlanObjective.MinLatency ? "latency" : "throughput")}): {plan.DeviceCount} stage(s)");
        o.AppendLine(c, $"  {"device",-16} {"layers",-10} {"memory bytes",16} {"decode ms",10} {"hop ms",8}");
        foreach (var s in plan.Stages)
            o.AppendLine(c, $"  {s.DeviceId,-16} {$"{s.FirstLayer}..{s.EndLayer - 1}",-10} {s.MemoryBytes,16:N0} {s.DecodeSeconds * 1e3,10:0.###} {s.HopSeconds * 1e3,8:0.###}");
        o.AppendLine(c, $"predicted: {plan.PerTokenLatencySeconds * 1e3:0.###} ms per token (one stream), {plan.ThroughputTokensPerSecond:0.##} tok/s pipelined, prefill of {plan.PromptTokens} tokens {plan.PrefillSeconds * 1e3:0.###} ms");
        o.AppendLine("devices:");
        foreach (var v in plan.Devices) o.AppendLine(c, $"  {v.DeviceId}: {(v.Used ? "used" : "left out")}: {v.Reason}");
        if (ip is not null)
            o.AppendLine(c, $"cross-check: integer program {(agree ? "agrees" : "DISAGREES")}: {ip.ObjectiveSeconds * 1e3:0.######} ms vs DP {plan.ObjectiveSeconds * 1e3:0.######} ms, {ip.DeviceCount} vs {plan.DeviceCount} devices");
        o.AppendLine("baselines:");
        foreach (var b in baselines)
        {
            string split = string.Join(", ", b.Stages.Select(s => $"{s.DeviceId} {s.FirstLayer}..{s.EndLayer - 1}"));
            o.AppendLine(c, $"  {b.Method}: {split}");
            string fit = b.Fits ? "" : "; does not fit: " + string.Join("; ", b.Problems);
            o.AppendLine(c, $"    {b.PerTokenLatencySeconds * 1e3:0.###} ms per token, {b.ThroughputTokensPerSecond:0.##} tok/s{fit}");
        }
        return o.ToString();
    }

    private static string Json(ModelProfile model, Plan plan, Plan? ip, bool agree, Plan[] baselines)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("model", model.Name);
            w.WriteNumber("layers", model.LayerCount);
            w.WriteNumber("contextLength", plan.ContextLength);
            w.WriteString("objective", plan.Objective == PlanObjective.MinLatency ? "latency" : "throughput");
            w.WritePropertyName("plan");
            WritePlan(w, plan);
            if (ip is not null)
            {
                w.WritePropertyName("crossCheck");
                w.WriteStartObject();
                w.WriteBoolean("agree", agree);
                w.WritePropertyName("ip");
                WritePlan(w, ip);
                w.WriteEndObject();
            }
            w.WriteStartArray("baselines");
            foreach (var b in baselines) WritePlan(w, b);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void WritePlan(Utf8JsonWriter w, Plan p)
    {
        w.WriteStartObject();
        w.WriteString("method", p.Method);
        w.WriteNumber("perTokenLatencySeconds", p.PerTokenLatencySeconds);
        w.WriteNumber("throughputTokensPerSecond", p.ThroughputTokensPerSecond);
        w.WriteNumber("prefillSeconds", p.PrefillSeconds);
        w.WriteNumber("promptTokens", p.PromptTokens);
        w.WriteBoolean("fits", p.Fits);
        w.WriteStartArray("problems");
        foreach (string problem in p.Problems) w.WriteStringValue(problem);
        w.WriteEndArray();
        w.WriteStartArray("stages");
        foreach (var s in p.Stages)
        {
            w.WriteStartObject();
            w.WriteString("device", s.DeviceId);
            w.WriteNumber("firstLayer", s.FirstLayer);
            w.WriteNumber("endLayer", s.EndLayer);
            w.WriteNumber("memoryBytes", s.MemoryBytes);
            w.WriteNumber("decodeSeconds", s.DecodeSeconds);
            w.WriteNumber("hopSeconds", s.HopSeconds);
            w.WriteNumber("prefillSeconds", s.PrefillSeconds);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("devices");
        foreach (var v in p.Devices)
        {
            w.WriteStartObject();
            w.WriteString("id", v.DeviceId);
            w.WriteBoolean("used", v.Used);
            w.WriteString("reason", v.Reason);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
