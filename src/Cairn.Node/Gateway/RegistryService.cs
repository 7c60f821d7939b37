using Cairn.Node.Rpc;
using Cairn.Protocol.Messages;
using Grpc.Core;

namespace Cairn.Node.Gateway;

/// <summary>The gRPC side of the gateway: providers register and send heartbeats.</summary>
public sealed class RegistryService(ProviderDirectory directory, GatewayState gateway, GatewayLedger ledger, TimeProvider time, ILogger<RegistryService> log) : Registry.RegistryBase
{
    /// <summary>How far an announcement's timestamp may be from the gateway's clock.</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    public override Task<RegisterReply> Register(RegisterRequest request, ServerCallContext context)
    {
        string? error = Validate(request) ?? CheckAnnouncement(request);
        if (error != null)
        {
            GatewayLog.ProviderRefused(log, request.ProviderId, error);
            return Task.FromResult(new RegisterReply { Accepted = false, Error = error });
        }
        ledger.EnsureStake(Cairn.Protocol.Identity.Address.Parse(request.ProviderId));
        directory.Register(request);
        GatewayLog.ProviderRegistered(log, request.ProviderId, request.Endpoint, string.Join(",", request.Models.Select(m => m.Name)), request.DecodeTokS);
        return Task.FromResult(new RegisterReply { Accepted = true, HeartbeatIntervalMs = (int)ProviderDirectory.HeartbeatInterval.TotalMilliseconds, GatewayId = gateway.Id.ToString() });
    }

    public override Task<HeartbeatReply> Heartbeat(HeartbeatRequest request, ServerCallContext context) =>
        Task.FromResult(new HeartbeatReply { Known = directory.Heartbeat(request.ProviderId) });

    /// <summary>The signed announcement must come from provider_id's key and say exactly what the request says.</summary>
    private string? CheckAnnouncement(RegisterRequest r)
    {
        if (!ProviderAnnouncement.TryDecode(r.Announcement.Span, out var a, out var malformed)) return $"announcement: {malformed}";
        var signature = a!.Verify();
        if (!signature.IsValid) return $"announcement: {signature}";
        if (a.Provider.ToString() != r.ProviderId) return $"announcement is signed by {a.Provider}, not {r.ProviderId}";
        if (a.Endpoint != r.Endpoint) return "announcement names another endpoint";
        if (a.PricePerToken != r.PricePerToken) return "announcement names another price";
        var announced = a.Models.Select(h => h.ToString()).Order(StringComparer.Ordinal);
        var claimed = r.Models.Select(m => Convert.ToHexStringLower(m.Hash.Span)).Order(StringComparer.Ordinal);
        if (!announced.SequenceEqual(claimed)) return "announcement names other models";
        var skew = time.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Min(a.TimestampMs, long.MaxValue / 2));
        if (skew.Duration() > MaxClockSkew) return $"announcement timestamp is {skew.TotalSeconds:F0} s off the gateway's clock";
        return null;
    }

    private static string? Validate(RegisterRequest r)
    {
        if (string.IsNullOrEmpty(r.ProviderId) || r.ProviderId.Length > 64) return "provider_id is missing or too long";
        if (!Uri.TryCreate(r.Endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")) return $"endpoint '{r.Endpoint}' is not an http(s) URL";
        if (r.Models.Count is 0 or > 64) return "a provider announces 1 to 64 models";
        if (r.Models.Any(m => string.IsNullOrEmpty(m.Name) || m.Hash.Length != 32)) return "each model needs a name and a 32-byte hash";
        if (!(r.DecodeTokS >= 0 && double.IsFinite(r.DecodeTokS))) return "decode_tok_s must be a finite non-negative number";
        return null;
    }
}
