using System.Diagnostics;
using Cairn.Protocol.Identity;

namespace Cairn.Node.Gateway.Dashboard;

/// <summary>
/// The dashboard (docs/dashboard.md): its page at <c>/</c> and <c>/dashboard/*</c>, the read-only JSON it polls
/// (<c>/v1/network</c>, <c>/v1/network/requests</c>, <c>/v1/network/challenges</c>, <c>/v1/network/balances</c>,
/// <c>/v1/pipeline</c>) and <c>/metrics</c>. These views are public like <c>/healthz</c>: they show what the ledger and
/// the receipts already make public (addresses, hashes, counts, balances) and never a prompt, an answer or an API key.
/// </summary>
public static class DashboardEndpoints
{
    public static void AddDashboard(this IServiceCollection services)
    {
        services.AddSingleton<GatewayMetrics>();
        services.AddSingleton<RequestFeed>();
        services.AddSingleton<BalanceHistory>();
        services.AddSingleton<PipelinePlan>();
        services.AddHostedService<BalanceSampler>();
    }

    /// <summary>Counts completion requests (status, duration) around the error middleware, so errors are counted with their status.</summary>
    public static void UseRequestMetrics(this WebApplication app)
    {
        var metrics = app.Services.GetRequiredService<GatewayMetrics>();
        app.Use(async (ctx, next) =>
        {
            string path = ctx.Request.Path.Value ?? "";
            if (!HttpMethods.IsPost(ctx.Request.Method) || path is not ("/v1/completions" or "/v1/chat/completions"))
            {
                await next(ctx);
                return;
            }
            long started = Stopwatch.GetTimestamp();
            try
            {
                await next(ctx);
            }
            finally
            {
                metrics.RequestEnded(ctx.Response.StatusCode, Stopwatch.GetElapsedTime(started).TotalSeconds);
            }
        });
    }

    public static void MapDashboard(this WebApplication app)
    {
        var metrics = app.Services.GetRequiredService<GatewayMetrics>();
        var feed = app.Services.GetRequiredService<RequestFeed>();
        app.Services.GetRequiredService<ReceiptStore>().Added += r =>
        {
            feed.Add(r);
            metrics.Served(r.Receipt.PromptTokens, r.Receipt.CompletionTokens);
        };
        app.Services.GetRequiredService<ChallengeService>().Recorded += metrics.ChallengeDecided;

        app.MapGet("/", Page);
        app.MapGet("/dashboard", Page);
        app.MapGet("/dashboard/{page}", (string page) => page is "overview" or "requests" or "challenges" or "earnings" or "pipeline" ? Page() : Results.NotFound());
        app.MapGet("/dashboard/assets/{name}", (string name, HttpContext ctx) =>
        {
            var asset = DashboardAssets.Find(name);
            if (asset is null) return Results.NotFound();
            ctx.Response.Headers.CacheControl = "no-cache";
            return Results.Bytes(asset.Bytes, asset.ContentType);
        });
        app.MapGet("/v1/network", Network);
        app.MapGet("/v1/network/requests", (long? after) => Results.Json(feed.After(after ?? 0), DashboardJson.Default.FeedEntryArray));
        app.MapGet("/v1/network/challenges", (ChallengeService c) => Results.Json(c.Report(), GatewayJson.Default.ChallengeReport));
        app.MapGet("/v1/network/balances", (BalanceHistory h) => Results.Json(h.All(), DashboardJson.Default.BalanceSampleArray));
        app.MapGet("/v1/pipeline", (PipelinePlan p) => Results.Json(p.Current, DashboardJson.Default.PipelineView));
        app.MapGet("/metrics", (ProviderDirectory d, GatewayLedger ledger) =>
            Results.Text(metrics.Write(d.Healthy().Count, d.All().Count, ledger.EntryCount), "text/plain; version=0.0.4; charset=utf-8"));
    }

    private static IResult Page()
    {
        var page = DashboardAssets.Find("index.html") ?? throw new InvalidOperationException("the dashboard page is not embedded in Cairn.Node.dll");
        return Results.Bytes(page.Bytes, page.ContentType);
    }

    private static IResult Network(ProviderDirectory d, GatewayLedger ledger, ChallengeService challenges, GatewayMetrics metrics, ReceiptStore receipts,
        GatewayState gateway, GatewayOptions options, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var providers = d.All().OrderBy(p => p.Id, StringComparer.Ordinal).Select(p =>
        {
            bool ok = Address.TryParse(p.Id, out var a, out _);
            var n = p.Announcement;
            return new ProviderView(p.Id, d.IsHealthy(p), p.Refused, d.Reputation.Score(p.Id), ok ? ledger.StakeOf(a) : 0, ok ? ledger.EarningsOf(a) : 0,
                ok && ledger.IsEligible(a), p.Active, n.MaxConcurrent, Interlocked.Read(ref p.Served), Interlocked.Read(ref p.Failures), n.PricePerToken,
                n.DecodeTokS, n.PrefillTokS, n.Engine, Math.Max(0, (now - p.LastSeen).TotalSeconds),
                n.Models.Select(m => new ProviderModelView(m.Name, Convert.ToHexStringLower(m.Hash.Span), m.Architecture, m.WeightType, m.ContextLength, "whole model")).ToArray());
        }).ToArray();
        var report = challenges.Report();
        var totals = new NetworkTotals(metrics.Requests, metrics.PromptTokens, metrics.CompletionTokens, receipts.Count, report.Challenges.Length, report.Disputes.Length,
            report.Challenges.Sum(c => c.Slashed), ledger.EntryCount, providers.Count(p => p.Healthy), providers.Length);
        return Results.Json(new NetworkView(gateway.Id.ToString(), ledger.OpenEpoch, options.ChallengeRate.ToString(), options.Validators, report.Referee, totals, providers),
            DashboardJson.Default.NetworkView);
    }
}
