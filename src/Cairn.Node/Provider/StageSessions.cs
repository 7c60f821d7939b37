using System.Collections.Concurrent;

namespace Cairn.Node.Provider;

/// <summary>The open pipeline sessions of a stage provider, by the gateway's session id, and its emulated device (<see cref="StageHost"/>).</summary>
public sealed class StageSessions(StageHost? host)
{
    /// <summary>Open sessions at most; an Open beyond it is refused (each holds a KV cache).</summary>
    public const int MaxSessions = 64;

    private readonly ConcurrentDictionary<string, StageSession> _sessions = new(StringComparer.Ordinal);

    /// <summary>The emulated device (calibration, <c>--slowdown</c>, loadable ranges); null for a provider of whole models.</summary>
    public StageHost? Host { get; } = host;

    /// <summary>Held while a flexible stage swaps its range (<c>Load</c>); an <c>Open</c> then waits.</summary>
    public SemaphoreSlim LoadGate { get; } = new(1, 1);

    public int Count => _sessions.Count;

    public bool TryAdd(string id, StageSession session)
    {
        if (_sessions.Count >= MaxSessions && !_sessions.ContainsKey(id)) return false;
        _sessions[id] = session;
        return true;
    }

    public StageSession? Find(string id) => _sessions.TryGetValue(id, out var s) ? s : null;

    public bool Remove(string id) => _sessions.TryRemove(id, out _);
}
