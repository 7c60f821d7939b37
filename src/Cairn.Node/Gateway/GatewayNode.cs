using System.Net;
using System.Text.Json;
using Cairn.Node.Gateway.Dashboard;
using Cairn.Node.Gateway.OpenAi;
using Cairn.Protocol.Identity;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Cairn.Node.Gateway;

/// <summary>
/// Builds the gateway: the OpenAI-compatible HTTP API on 127.0.0.1:<see cref="GatewayOptions.Port"/> and the gRPC
/// registry providers join on 127.0.0.1:<see cref="GatewayOptions.GrpcPort"/>.
/// </summary>
public static class GatewayNode
{
    public static WebApplication Build(GatewayOptions options, Secp256k1Key key, Action<ILoggingBuilder>? logging = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        Hosting.NodeLogging.Configure(builder.Logging, logging);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            k.Listen(IPAddress.Loopback, options.Port, o => o.Protocols = HttpProtocols.Http1);
            k.Listen(IPAddress.Loopback, options.GrpcPort, o => o.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = 16 << 20);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(new GatewayState(key));
        var ledger = new GatewayLedger(options);
        builder.Services.AddSingleton(ledger);
        builder.Services.AddSingleton(sp => new ProviderDirectory(sp.GetRequiredService<TimeProvider>())
        {
            Eligible = id => Cairn.Protocol.Identity.Address.TryParse(id, out var a, out _) && ledger.IsEligible(a),
            Allowed = (contribution, id) => Cairn.Protocol.Identity.Address.TryParse(id, out var a, out _) && ledger.Contributions.IsAllowed(contribution, a),
        });
        builder.Services.AddSingleton(new ReceiptStore(options.DataDirectory));
        var referees = new RefereeModels(options.RefereeModels, options.RefereeThreads, options.RefereeAdapters);
        builder.Services.AddSingleton(referees);
        builder.Services.AddSingleton<ChallengeService>();
        builder.Services.AddSingleton<Pipeline.PipelineHandler>();
        builder.Services.AddSingleton<Pipeline.PlannedPipeline>();
        builder.Services.AddSingleton<CompletionHandler>();
        builder.Services.AddHostedService<GatewayMonitor>();
        builder.Services.AddDashboard();

        var app = builder.Build();
        app.Lifetime.ApplicationStopped.Register(ledger.Dispose);
        app.Lifetime.ApplicationStopped.Register(referees.Dispose);
        app.UseRequestMetrics();
        app.Use(ErrorsAsOpenAiJson);
        app.Services.GetRequiredService<ChallengeService>().Start();
        app.MapGrpcService<RegistryService>();
        app.MapGet("/healthz", (ProviderDirectory d, ReceiptStore r) => Results.Json(new HealthReport(
            "ok", d.Healthy().Count, d.All().Count, d.Models().Select(m => m.Name).ToArray(), r.Count,
            d.All().Select(p => new ProviderHealth(p.Id, d.IsHealthy(p), d.Reputation.Score(p.Id), p.Active, Interlocked.Read(ref p.Served))).ToArray()),
            GatewayJson.Default.HealthReport));
        app.MapGet("/v1/models", (HttpContext ctx, ProviderDirectory d, GatewayOptions o) =>
        {
            ApiKeyAuth.Authenticate(ctx, o);
            return Results.Json(new ModelList("list", d.ModelIds().Select(m => new ModelEntry(m, "model", 0, "cairn")).ToArray()), GatewayJson.Default.ModelList);
        });
        app.MapPost("/v1/completions", (HttpContext ctx, CompletionHandler h) => h.Handle(ctx, chat: false));
        app.MapPost("/v1/chat/completions", (HttpContext ctx, CompletionHandler h) => h.Handle(ctx, chat: true));
        app.MapGet("/v1/receipts/{id}", (HttpContext ctx, string id, ReceiptStore store, GatewayOptions o) =>
        {
            ApiKeyAuth.Authenticate(ctx, o);
            var r = store.Find(id) ?? throw OpenAiError.NotFound($"no receipt '{id}'", "id", "receipt_not_found");
            return Results.Json(new ReceiptView(r.Id, r.Model, r.Receipt.Provider.ToString(), r.Receipt.RequestHash.ToString(),
                r.Receipt.OutputCommitment.ToString(), r.Receipt.TraceRoot.ToString(), r.Receipt.PromptTokens, r.Receipt.CompletionTokens,
                r.Receipt.Price, r.Receipt.EngineBuild, Convert.ToHexStringLower(r.Request.Encode()), Convert.ToHexStringLower(r.Receipt.Encode()),
                r.Request.AdapterHashes.Select(h => h.ToString()).ToArray())
            {
                StageParts = r.StageParts?.Select(p => new StagePartView(p.Provider.ToString(), p.FirstLayer, p.EndLayer, p.Steps, p.PartRoot.ToString(), [.. p.Tokens],
                    Convert.ToHexStringLower(p.Encode()))).ToArray(),
            },
                GatewayJson.Default.ReceiptView);
        });
        app.MapGet("/v1/challenges", (HttpContext ctx, ChallengeService challenges, GatewayOptions o) =>
        {
            ApiKeyAuth.Authenticate(ctx, o);
            return Results.Json(challenges.Report(), GatewayJson.Default.ChallengeReport);
        });
        app.MapGet("/v1/disputes/{id}/evidence", (HttpContext ctx, string id, ChallengeService challenges, GatewayOptions o) =>
        {
            ApiKeyAuth.Authenticate(ctx, o);
            var bytes = challenges.Evidence(id) ?? throw OpenAiError.NotFound($"no dispute evidence '{id}'", "id", "dispute_not_found");
            return Results.Bytes(bytes, "application/octet-stream", id + ".evidence");
        });
        app.MapGet("/v1/contributions", (HttpContext ctx, GatewayLedger ledger, GatewayOptions o, string? kind) =>
        {
            ApiKeyAuth.Authenticate(ctx, o);
            Cairn.Protocol.Messages.ContributionKind? filter = kind switch
            {
                null or "" => null,
                "model" => Cairn.Protocol.Messages.ContributionKind.Model,
                "adapter" => Cairn.Protocol.Messages.ContributionKind.Adapter,
                _ => throw OpenAiError.BadRequest($"kind must be model or adapter; got \"{kind}\"", "kind"),
            };
            return Results.Json(new ContributionList("list", [.. ledger.Book.ListContributions(filter).Select(ContributionViews.View)]), GatewayJson.Default.ContributionList);
        });
        app.MapDashboard();
        app.MapFallback((HttpContext ctx) => throw OpenAiError.NotFound($"no route {ctx.Request.Method} {ctx.Request.Path}"));
        return app;
    }

    /// <summary>One place turns errors into OpenAI's error object; unexpected ones become 500 without internals.</summary>
    private static async Task ErrorsAsOpenAiJson(HttpContext ctx, RequestDelegate next)
    {
        try
        {
            await next(ctx);
        }
        catch (Exception e) when (!ctx.Response.HasStarted && !ctx.RequestAborted.IsCancellationRequested)
        {
            var error = e switch
            {
                OpenAiError o => o,
                Microsoft.AspNetCore.Http.BadHttpRequestException { StatusCode: 413 } => OpenAiError.TooLarge("the request body is too large"),
                Microsoft.AspNetCore.Http.BadHttpRequestException b => OpenAiError.BadRequest(b.Message),
                _ => new OpenAiError(500, "internal error", "server_error"),
            };
            if (error.Status == 500) ctx.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Cairn.Gateway").LogError(e, "unhandled error");
            ctx.Response.Clear();
            ctx.Response.StatusCode = error.Status;
            ctx.Response.ContentType = "application/json";
            await using var w = new Utf8JsonWriter(ctx.Response.Body);
            error.WriteJson(w);
        }
    }

    /// <summary>The API address once started, e.g. http://127.0.0.1:8080.</summary>
    public static (string Api, string Grpc) Addresses(WebApplication app)
    {
        var addresses = app.Urls.ToList();
        return (addresses[0], addresses[1]);
    }
}
