namespace Cairn.Node.Provider;

/// <summary>
/// Finds stop strings in streamed text. Text that could still be the start of a stop string is held back, so the
/// client never receives any part of a stop string; text after a stop string is never produced.
/// </summary>
public sealed class StopMatcher(IReadOnlyList<string> stops)
{
    private string _held = "";

    public bool Stopped { get; private set; }

    /// <summary>Adds newly decoded text; returns the text that is safe to emit now.</summary>
    public string Push(string text)
    {
        if (Stopped || text.Length == 0) return "";
        string buffer = _held + text;
        int cut = -1;
        foreach (string stop in stops)
        {
            int i = buffer.IndexOf(stop, StringComparison.Ordinal);
            if (i >= 0 && (cut < 0 || i < cut)) cut = i;
        }
        if (cut >= 0)
        {
            Stopped = true;
            _held = "";
            return buffer[..cut];
        }
        int hold = 0;
        foreach (string stop in stops)
        {
            for (int len = Math.Min(stop.Length - 1, buffer.Length); len > hold; len--)
            {
                if (buffer.AsSpan(buffer.Length - len).SequenceEqual(stop.AsSpan(0, len)))
                {
                    hold = len;
                    break;
                }
            }
        }
        _held = buffer[(buffer.Length - hold)..];
        return buffer[..(buffer.Length - hold)];
    }

    /// <summary>At the end of generation: whatever was held back (it did not become a stop string).</summary>
    public string Flush()
    {
        string rest = Stopped ? "" : _held;
        _held = "";
        return rest;
    }
}
