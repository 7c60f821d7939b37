using Cairn.Protocol.Crypto;
using Cairn.Protocol.Encoding;
using Cairn.Protocol.Identity;
using Cairn.Protocol.Validation;

namespace Cairn.Protocol.Messages;

/// <summary>
/// A contributor's signed registration of a base model or a LoRA adapter (DESIGN.md §7, docs/contributions.md): the
/// file's SHA-256, the base model an adapter targets, the royalty it earns on every fee, its license, where royalties go
/// and who may serve it. Canonical encoding, version 1:
/// <code>
/// u8 18 ‖ "cairn.contribution" ‖ u8 1
/// kind          u8 (1 model, 2 adapter)
/// name          u32 length ‖ UTF-8, 1–64 bytes of [A-Za-z0-9._-]
/// file_sha256   32 bytes
/// base_model    32 bytes: the base model file's SHA-256 (adapters); all zeros for a model
/// royalty_bps   u32, 0–10,000
/// license       u32 length ‖ UTF-8, ≤ 256 bytes
/// payout        20 bytes (royalties go to royalty:&lt;payout&gt;)
/// publisher     20 bytes (the signer)
/// visibility    u8 (0 public, 1 private)
/// allowed       u32 count (≤ 64; 0 when public, ≥ 1 when private) ‖ 20 bytes each, ascending, distinct
/// ── end of the signed body; Hash() = Keccak-256 of the bytes above ──
/// signature     65 bytes (r ‖ s ‖ v), by the publisher
/// </code>
/// </summary>
public sealed class ContributionEntry
{
    public const string DomainTag = "cairn.contribution";
    public const byte Version = 1;
    public const int MaxNameLength = 64;
    public const int MaxLicenseBytes = 256;
    public const int MaxAllowedProviders = 64;
    public const int MaxRoyaltyBps = 10_000;

    public required ContributionKind Kind { get; init; }
    public required string Name { get; init; }
    /// <summary>SHA-256 of the model or adapter file: what requests name (<see cref="InferenceRequest.ModelHash"/>, adapter hashes).</summary>
    public required Hash256 FileSha256 { get; init; }
    /// <summary>For an adapter: the SHA-256 of the base model file it was trained on. Zero for a model.</summary>
    public Hash256 BaseModel { get; init; }
    public int RoyaltyBps { get; init; }
    public string License { get; init; } = "";
    public required Address Payout { get; init; }
    public required Address Publisher { get; init; }
    public ContributionVisibility Visibility { get; init; }
    /// <summary>For a private contribution: the providers allowed to serve it, ascending and distinct.</summary>
    public IReadOnlyList<Address> AllowedProviders { get; init; } = [];
    public Signature Signature { get; init; }

    public byte[] EncodeBody()
    {
        var w = new CanonicalWriter(256 + MaxLicenseBytes + Address.Size * AllowedProviders.Count);
        WriteBody(w);
        return w.ToArray();
    }

    public byte[] Encode()
    {
        var w = new CanonicalWriter(256 + MaxLicenseBytes + Address.Size * AllowedProviders.Count + Signature.Size);
        WriteBody(w);
        w.WriteSignature(Signature);
        return w.ToArray();
    }

    /// <summary>Keccak-256 of <see cref="EncodeBody"/>: what the publisher signs and what the ledger entry's authorization is.</summary>
    public Hash256 Hash() => Keccak256.Hash(EncodeBody());

    public ContributionEntry Sign(Secp256k1Key key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Address != Publisher) throw new ArgumentException($"the entry names publisher {Publisher} but the key is {key.Address}", nameof(key));
        return WithSignature(key.Sign(Hash()));
    }

    /// <summary>The same entry carrying <paramref name="signature"/> (which <see cref="Verify"/> then checks).</summary>
    public ContributionEntry WithSignature(Signature signature) => new()
    {
        Kind = Kind,
        Name = Name,
        FileSha256 = FileSha256,
        BaseModel = BaseModel,
        RoyaltyBps = RoyaltyBps,
        License = License,
        Payout = Payout,
        Publisher = Publisher,
        Visibility = Visibility,
        AllowedProviders = AllowedProviders,
        Signature = signature,
    };

    /// <summary>The fields' rules (<see cref="Check"/>), then the signature: present, valid and by <see cref="Publisher"/>.</summary>
    public ValidationResult Verify()
    {
        if (Check() is { } problem) return ValidationResult.Fail(ProtocolErrors.InvalidParameter, $"ContributionEntry: {problem}");
        return MessageSignatures.Verify("ContributionEntry", Hash(), Signature, Publisher, "publisher");
    }

    /// <summary>Whether <paramref name="provider"/> may serve this contribution: anyone for a public one, the listed providers for a private one.</summary>
    public bool Allows(Address provider) => Visibility == ContributionVisibility.Public || AllowedProviders.Contains(provider);

    /// <summary>The first field that breaks the message's rules, as a sentence naming it; null when all hold.</summary>
    public string? Check()
    {
        if (Kind is not (ContributionKind.Model or ContributionKind.Adapter)) return $"kind {(int)Kind} is not 1 (model) or 2 (adapter)";
        if (NameProblem(Name) is { } name) return name;
        if (FileSha256.IsZero) return "file_sha256 is zero";
        if (Kind == ContributionKind.Model && !BaseModel.IsZero) return "a model names no base_model; it must be zero";
        if (Kind == ContributionKind.Adapter && BaseModel.IsZero) return "an adapter must name the SHA-256 of its base model in base_model";
        if (Kind == ContributionKind.Adapter && BaseModel == FileSha256) return "an adapter cannot be its own base model";
        if (RoyaltyBps is < 0 or > MaxRoyaltyBps) return $"royalty_bps is {RoyaltyBps}; it must be 0 to {MaxRoyaltyBps} (100%)";
        if (System.Text.Encoding.UTF8.GetByteCount(License) > MaxLicenseBytes) return $"license is {System.Text.Encoding.UTF8.GetByteCount(License)} bytes; at most {MaxLicenseBytes} are allowed";
        if (Payout.IsZero) return "payout is the zero address";
        if (Visibility is not (ContributionVisibility.Public or ContributionVisibility.Private)) return $"visibility {(int)Visibility} is not 0 (public) or 1 (private)";
        if (AllowedProviders.Count > MaxAllowedProviders) return $"allowed names {AllowedProviders.Count} providers; at most {MaxAllowedProviders} are allowed";
        if (Visibility == ContributionVisibility.Public && AllowedProviders.Count != 0) return "a public contribution lists no allowed providers (anyone may serve it)";
        if (Visibility == ContributionVisibility.Private && AllowedProviders.Count == 0) return "a private contribution must allow at least one provider";
        for (int i = 1; i < AllowedProviders.Count; i++)
        {
            if (Compare(AllowedProviders[i - 1], AllowedProviders[i]) >= 0) return $"allowed providers must be ascending and distinct; {AllowedProviders[i]} follows {AllowedProviders[i - 1]}";
        }
        return null;
    }

    /// <summary>Why <paramref name="name"/> is not a valid contribution name, or null.</summary>
    public static string? NameProblem(string name)
    {
        if (name.Length is 0 or > MaxNameLength) return $"name is {name.Length} characters; it must be 1 to {MaxNameLength}";
        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')) return $"name \"{name}\" has '{c}'; only A-Z, a-z, 0-9, '.', '_' and '-' are allowed";
        }
        return null;
    }

    /// <summary>Byte order of addresses, the order of <see cref="AllowedProviders"/>.</summary>
    public static int Compare(Address a, Address b) => a.ToArray().AsSpan().SequenceCompareTo(b.ToArray());

    public static ContributionEntry Decode(ReadOnlySpan<byte> bytes)
    {
        var r = new CanonicalReader(bytes, "ContributionEntry");
        r.ReadDomain(DomainTag, Version);
        var kind = (ContributionKind)r.ReadU8("kind");
        string name = r.ReadString("name", MaxNameLength);
        var file = r.ReadHash("file_sha256");
        var baseModel = r.ReadHash("base_model");
        uint royalty = r.ReadU32("royalty_bps");
        if (royalty > MaxRoyaltyBps) r.Fail(ProtocolErrors.InvalidParameter, $"royalty_bps is {royalty}; it must be 0 to {MaxRoyaltyBps}");
        string license = r.ReadString("license", MaxLicenseBytes);
        var payout = r.ReadAddress("payout");
        var publisher = r.ReadAddress("publisher");
        var visibility = (ContributionVisibility)r.ReadU8("visibility");
        int count = r.ReadCount("allowed", MaxAllowedProviders, Address.Size);
        var allowed = new Address[count];
        for (int i = 0; i < count; i++) allowed[i] = r.ReadAddress("allowed");
        var entry = new ContributionEntry
        {
            Kind = kind,
            Name = name,
            FileSha256 = file,
            BaseModel = baseModel,
            RoyaltyBps = (int)royalty,
            License = license,
            Payout = payout,
            Publisher = publisher,
            Visibility = visibility,
            AllowedProviders = allowed,
            Signature = r.ReadSignature("signature"),
        };
        r.End();
        if (entry.Check() is { } problem) r.Fail(ProtocolErrors.InvalidParameter, problem);
        return entry;
    }

    public static bool TryDecode(ReadOnlySpan<byte> bytes, out ContributionEntry? entry, out ValidationResult result) =>
        MessageDecoding.TryDecode(bytes, Decode, out entry, out result);

    private void WriteBody(CanonicalWriter w)
    {
        if (AllowedProviders.Count > MaxAllowedProviders) throw new ArgumentException($"a contribution allows at most {MaxAllowedProviders} providers");
        if (RoyaltyBps < 0) throw new ArgumentException($"royalty_bps is {RoyaltyBps}; it cannot be negative");
        w.WriteDomain(DomainTag, Version);
        w.WriteU8((byte)Kind);
        w.WriteString(Name, MaxNameLength, "name");
        w.WriteHash(FileSha256);
        w.WriteHash(BaseModel);
        w.WriteU32((uint)RoyaltyBps);
        w.WriteString(License, MaxLicenseBytes, "license");
        w.WriteAddress(Payout);
        w.WriteAddress(Publisher);
        w.WriteU8((byte)Visibility);
        w.WriteCount(AllowedProviders.Count, "allowed");
        foreach (var a in AllowedProviders) w.WriteAddress(a);
    }
}
