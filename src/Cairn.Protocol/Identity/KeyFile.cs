using System.Security.Cryptography;
using System.Text.Json;
using Cairn.Protocol.Crypto;

namespace Cairn.Protocol.Identity;

/// <summary>
/// Encrypted key files (the one helper in Cairn.Protocol that does I/O). Format, JSON, version 1:
/// <code>
/// { "format": "cairn-key", "version": 1, "address": "0x…EIP-55…",
///   "kdf":    { "name": "pbkdf2-sha256", "iterations": 600000, "salt": "&lt;32 bytes hex&gt;" },
///   "cipher": { "name": "aes-256-gcm", "nonce": "&lt;12 bytes hex&gt;", "tag": "&lt;16 bytes hex&gt;" },
///   "ciphertext": "&lt;32 bytes hex&gt;", "check": "&lt;32 bytes hex&gt;" }
/// </code>
/// <c>dk = PBKDF2-HMAC-SHA256(UTF-8 passphrase, salt, iterations, 64 bytes)</c>; the private key is sealed with
/// AES-256-GCM under <c>dk[0..32]</c> with associated data <c>"cairn-key.v1|" + lowercase address + "|" + iterations + "|" + salt hex</c>;
/// <c>check = SHA-256("cairn-key.check" ‖ dk[32..64])</c> tells a wrong passphrase apart from a tampered file
/// (it gives an attacker nothing the GCM tag does not already give: both need the full PBKDF2 per guess).
/// The address is stored in clear so <c>cairn keys show</c> needs no passphrase.
/// </summary>
public static class KeyFile
{
    public const int DefaultIterations = 600_000; // OWASP 2023 guidance for PBKDF2-HMAC-SHA256
    public const int MaximumIterations = 10_000_000;
    private const string Format = "cairn-key";
    private const int Version = 1;
    private const int SaltSize = 32, NonceSize = 12, TagSize = 16, CheckSize = 32;

    /// <summary>Writes a new key file with mode 0600 on Unix; refuses to overwrite an existing file.</summary>
    public static void Save(string path, Secp256k1Key key, string passphrase, RandomNumberGenerator random, int iterations = DefaultIterations)
    {
        string json = Encrypt(key, passphrase, random, iterations);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        if (File.Exists(path) || Directory.Exists(path)) throw new IOException($"{path} already exists; refusing to overwrite a key file");
        using var stream = new FileStream(path, options);
        stream.Write(System.Text.Encoding.UTF8.GetBytes(json));
    }

    /// <summary>Opens a key file with its passphrase.</summary>
    public static Secp256k1Key Load(string path, string passphrase) => Decrypt(File.ReadAllText(path), passphrase, path);

    /// <summary>The address a key file declares, read without the passphrase.</summary>
    public static Address LoadAddress(string path) => ReadAddress(File.ReadAllText(path), path);

    public static string Encrypt(Secp256k1Key key, string passphrase, RandomNumberGenerator random, int iterations = DefaultIterations)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(passphrase);
        ArgumentNullException.ThrowIfNull(random);
        if (iterations < 1 || iterations > MaximumIterations) throw new ArgumentOutOfRangeException(nameof(iterations), iterations, $"iterations must be 1 to {MaximumIterations}");
        byte[] salt = new byte[SaltSize], nonce = new byte[NonceSize], tag = new byte[TagSize], secret = key.ExportPrivateKey();
        random.GetBytes(salt);
        random.GetBytes(nonce);
        byte[] dk = Derive(passphrase, salt, iterations);
        var ciphertext = new byte[secret.Length];
        try
        {
            using var aes = new AesGcm(dk.AsSpan(0, 32), TagSize);
            aes.Encrypt(nonce, secret, ciphertext, tag, AssociatedData(key.Address, iterations, salt));
            using var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
            {
                w.WriteStartObject();
                w.WriteString("format", Format);
                w.WriteNumber("version", Version);
                w.WriteString("address", key.Address.ToString());
                w.WriteStartObject("kdf");
                w.WriteString("name", "pbkdf2-sha256");
                w.WriteNumber("iterations", iterations);
                w.WriteString("salt", Convert.ToHexStringLower(salt));
                w.WriteEndObject();
                w.WriteStartObject("cipher");
                w.WriteString("name", "aes-256-gcm");
                w.WriteString("nonce", Convert.ToHexStringLower(nonce));
                w.WriteString("tag", Convert.ToHexStringLower(tag));
                w.WriteEndObject();
                w.WriteString("ciphertext", Convert.ToHexStringLower(ciphertext));
                w.WriteString("check", Convert.ToHexStringLower(Check(dk)));
                w.WriteEndObject();
            }
            return System.Text.Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dk);
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    public static Secp256k1Key Decrypt(string json, string passphrase, string source = "key file")
    {
        ArgumentNullException.ThrowIfNull(passphrase);
        var f = Parse(json, source);
        byte[] dk = Derive(passphrase, f.Salt, f.Iterations);
        var secret = new byte[f.Ciphertext.Length];
        try
        {
            if (!CryptographicOperations.FixedTimeEquals(Check(dk), f.Check))
                throw new KeyFileException(KeyFileError.WrongPassphrase, $"{source}: wrong passphrase (or the file's salt or iteration count were altered)");
            try
            {
                using var aes = new AesGcm(dk.AsSpan(0, 32), TagSize);
                aes.Decrypt(f.Nonce, f.Ciphertext, f.Tag, secret, AssociatedData(f.Address, f.Iterations, f.Salt));
            }
            catch (AuthenticationTagMismatchException)
            {
                throw new KeyFileException(KeyFileError.Tampered, $"{source}: the file was altered (the passphrase is right but the encrypted key, nonce, tag or address do not authenticate)");
            }
            Secp256k1Key key;
            try
            {
                key = Secp256k1Key.FromPrivateKey(secret);
            }
            catch (ArgumentException)
            {
                throw new KeyFileException(KeyFileError.Tampered, $"{source}: the decrypted key is not a valid secp256k1 private key");
            }
            if (key.Address != f.Address)
            {
                key.Dispose();
                throw new KeyFileException(KeyFileError.Tampered, $"{source}: the key decrypts to {key.Address}, not the declared {f.Address}");
            }
            return key;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dk);
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    public static Address ReadAddress(string json, string source = "key file") => Parse(json, source).Address;

    private sealed record Fields(Address Address, int Iterations, byte[] Salt, byte[] Nonce, byte[] Tag, byte[] Ciphertext, byte[] Check);

    private static Fields Parse(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || Text(root, "format") != Format)
                throw Malformed(source, "not a Cairn key file (\"format\" is not \"cairn-key\")");
            if (!root.TryGetProperty("version", out var v) || !v.TryGetInt32(out int version) || version != Version)
                throw Malformed(source, $"unsupported key file version (this build reads version {Version})");
            if (!Address.TryParse(Text(root, "address"), out var address, out string? addressError))
                throw Malformed(source, $"address: {addressError}");
            var kdf = Object(root, "kdf", source);
            if (Text(kdf, "name") != "pbkdf2-sha256") throw Malformed(source, "kdf.name must be \"pbkdf2-sha256\"");
            if (!kdf.TryGetProperty("iterations", out var it) || !it.TryGetInt32(out int iterations) || iterations < 1 || iterations > MaximumIterations)
                throw Malformed(source, $"kdf.iterations must be an integer from 1 to {MaximumIterations}");
            var cipher = Object(root, "cipher", source);
            if (Text(cipher, "name") != "aes-256-gcm") throw Malformed(source, "cipher.name must be \"aes-256-gcm\"");
            return new Fields(address, iterations, Hex(kdf, "salt", SaltSize, source), Hex(cipher, "nonce", NonceSize, source),
                Hex(cipher, "tag", TagSize, source), Hex(root, "ciphertext", Secp256k1Key.PrivateKeySize, source), Hex(root, "check", CheckSize, source));
        }
        catch (JsonException e)
        {
            throw Malformed(source, $"not valid JSON ({e.Message})");
        }
    }

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;

    private static JsonElement Object(JsonElement e, string name, string source) =>
        e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.Object ? p : throw Malformed(source, $"\"{name}\" must be an object");

    private static byte[] Hex(JsonElement e, string name, int size, string source)
    {
        string? text = Text(e, name);
        if (text == null || text.Length != 2 * size || !Hash256.IsHex(text)) throw Malformed(source, $"\"{name}\" must be {size} bytes as {2 * size} hex digits");
        return Convert.FromHexString(text);
    }

    private static KeyFileException Malformed(string source, string detail) => new(KeyFileError.Malformed, $"{source}: {detail}");

    private static byte[] Derive(string passphrase, byte[] salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(System.Text.Encoding.UTF8.GetBytes(passphrase), salt, iterations, HashAlgorithmName.SHA256, 64);

    private static byte[] Check(byte[] dk)
    {
        var input = new byte[15 + 32];
        "cairn-key.check"u8.CopyTo(input);
        dk.AsSpan(32, 32).CopyTo(input.AsSpan(15));
        return SHA256.HashData(input);
    }

    private static byte[] AssociatedData(Address address, int iterations, byte[] salt) =>
        System.Text.Encoding.UTF8.GetBytes($"cairn-key.v1|{address.ToString().ToLowerInvariant()}|{iterations}|{Convert.ToHexStringLower(salt)}");
}
