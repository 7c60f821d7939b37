using System.Net;
using Cairn.Protocol.Identity;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Cairn.Node.Provider;

/// <summary>Builds a provider: its models loaded, its gRPC server on 127.0.0.1, and its registration with the gateway.</summary>
public static class ProviderNode
{
    public static WebApplication Build(ProviderOptions options, Secp256k1Key key, Action<ILoggingBuilder>? logging = null)
    {
        if (options.Models.Count == 0) throw new ArgumentException("a provider serves at least one model (--model FILE)");
        var models = new List<ServedModel>();
        try
        {
            if ((options.Layers != null || options.Flexible) && options.Models.Count != 1) throw new ArgumentException("a pipeline stage (--layers) serves exactly one model");
            var layers = options.Layers;
            if (options.Flexible)
            {
                var profile = Cairn.Planner.ModelProfile.FromGguf(options.Models[0]);
                layers = StageHost.InitialRange(profile, options.MemoryBudget)
                    ?? throw new ArgumentException($"no single layer of {Path.GetFileName(options.Models[0])} fits the memory budget of {options.MemoryBudget:N0} bytes; raise --memory");
            }
            foreach (string path in options.Models)
                models.Add(ServedModel.Load(path, options.Tokenizer, options.ChatTemplate, options.Threads, faults: options.Faults, layers: layers));
            models[0].Flexible = options.Flexible;
            ServedModel.AttachAdapters(models, options.Adapters);
            if (options.MemoryBudget is { } budget)
            {
                long need = 0;
                var problems = models.Select(m => m.CheckBudget(budget)).OfType<string>().ToList();
                foreach (var m in models) need += m.Model.WeightBytes + m.KvCacheBytes;
                if (problems.Count > 0) throw new ArgumentException(string.Join("; ", problems));
                if (need > budget) throw new ArgumentException($"the models together need {need} bytes, more than the memory budget of {budget} bytes");
            }
        }
        catch
        {
            foreach (var m in models) m.Dispose();
            throw;
        }
        var state = new ProviderState(key, models, options.PricePerToken, options.Faults);
        StageHost? host = null;
        if (models[0].IsStage)
        {
            host = StageHost.Calibrate(models[0], (first, end) =>
            {
                var m = ServedModel.Load(options.Models[0], options.Tokenizer, options.ChatTemplate, options.Threads, faults: options.Faults, layers: (first, end));
                m.Flexible = options.Flexible;
                return m;
            }, options.MemoryBudget, options.Flexible, options.Slowdown);
        }
        var stages = new StageSessions(host);

        var builder = WebApplication.CreateSlimBuilder();
        Hosting.NodeLogging.Configure(builder.Logging, logging);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, options.Port, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = 64 << 20);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(state);
        builder.Services.AddSingleton(stages);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ProviderRegistration>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ProviderRegistration>());
        var app = builder.Build();
        app.MapGrpcService<ProviderService>();
        app.MapGrpcService<StageService>();
        app.Lifetime.ApplicationStopped.Register(state.Dispose);
        return app;
    }
}
