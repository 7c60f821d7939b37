namespace Cairn.Protocol.Identity;

/// <summary>Why a key file could not be opened.</summary>
public enum KeyFileError
{
    /// <summary>Not a Cairn key file, or a field is missing or out of range.</summary>
    Malformed,
    /// <summary>The passphrase does not derive the file's check value (or its salt or iteration count were altered).</summary>
    WrongPassphrase,
    /// <summary>The passphrase is right but the ciphertext, tag, nonce or address were altered.</summary>
    Tampered,
}

/// <summary>A key file that cannot be opened, with the reason as a stable <see cref="KeyFileError"/>.</summary>
public sealed class KeyFileException(KeyFileError error, string message) : Exception(message)
{
    public KeyFileError Error { get; } = error;
}
