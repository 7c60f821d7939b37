namespace Cairn.Protocol.Messages;

/// <summary>Who may serve a contribution. The numbers are part of the encoding.</summary>
public enum ContributionVisibility : byte
{
    /// <summary>Any provider.</summary>
    Public = 0,
    /// <summary>Only the providers the entry lists.</summary>
    Private = 1,
}
