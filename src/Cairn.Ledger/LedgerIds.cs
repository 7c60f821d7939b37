using System.Diagnostics.CodeAnalysis;

namespace Cairn.Ledger;

/// <summary>Entry and hold ids: 1 to 100 characters from [A-Za-z0-9._:/-] (a request hash in hex fits, and so does "settle/&lt;hash&gt;").</summary>
public static class LedgerIds
{
    public const int MaxLength = 100;

    public static bool TryValidate(string? id, string what, [NotNullWhen(false)] out string? error)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxLength)
        {
            error = $"a {what} is 1 to {MaxLength} characters; got \"{id}\"";
            return false;
        }
        foreach (char c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '/' or '-'))
            {
                error = $"a {what} uses only letters, digits and . _ : / -; got \"{id}\"";
                return false;
            }
        }
        error = null;
        return true;
    }
}
