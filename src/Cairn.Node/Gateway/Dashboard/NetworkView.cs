namespace Cairn.Node.Gateway.Dashboard;

/// <summary>What <c>GET /v1/network</c> shows: the gateway, running totals and every provider it knows.</summary>
public sealed record NetworkView(string Gateway, long Epoch, string ChallengeRate, int Validators, bool Referee, NetworkTotals Totals, ProviderView[] Providers);

public sealed record NetworkTotals(long Requests, long PromptTokens, long CompletionTokens, int Receipts, int Challenges, int Disputes, long Slashed, long LedgerEntries,
    int HealthyProviders, int KnownProviders);

/// <summary>One provider: health, ledger standing (stake, unpaid earnings, eligibility), load and what it serves.</summary>
public sealed record ProviderView(string Id, bool Healthy, string? Refused, double Reputation, long Stake, long Earnings, bool Eligible, int Active, int MaxConcurrent,
    long Served, long Failures, ulong PricePerToken, double DecodeTokS, double PrefillTokS, string Engine, double LastSeenSecondsAgo, ProviderModelView[] Models);

/// <summary>A model a provider serves; <c>Layers</c> is "whole model" until pipeline stages hold layer ranges (<c>GET /v1/pipeline</c>).</summary>
public sealed record ProviderModelView(string Name, string Hash, string Architecture, string WeightType, int ContextLength, string Layers);
