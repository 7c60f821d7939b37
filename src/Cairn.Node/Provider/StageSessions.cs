using System.Collections.Concurrent;

namespace Cairn.Node.Provider;

/// <summary>The open pipeline sessions of a stage provider, by the gateway's session id, and its emulated slowdown.</summary>
public sealed class StageSessions(double slowdown)
{
    /// <summary>Open sessions at most; an Open beyond it is refused (each holds a KV cache).</summary>
    public const int MaxSessions = 64;

    private readonly ConcurrentDictionary<string, StageSession> _sessions = new(StringComparer.Ordinal);

    /// <summary><c>--slowdown</c>: after each step, sleep (X − 1) × the step's compute time.</summary>
    public double Slowdown { get; } = slowdown;

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
