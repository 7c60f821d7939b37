using Cairn.Ledger.Accounts;
using Cairn.Ledger.Journal;
using Cairn.Ledger.Storage;
using Cairn.Protocol.Crypto;

namespace Cairn.Ledger.Verification;

/// <summary>
/// Recomputes everything from the journal alone and compares it with what is stored: each entry's content hash and
/// chained hash, the chain's links and sequence, that postings sum to zero and name valid accounts, that no account but
/// <c>external</c> is ever negative, that holds are opened once and closed once, that each epoch's recorded Merkle root
/// is the root of its entries, that each registered contribution's stored message hashes to its entry's authorization,
/// is signed by its publisher and targets a base model registered before it; then the balance, hold, epoch and
/// contribution projections and the head. Reports the first problem.
/// </summary>
public static class LedgerVerifier
{
    /// <summary>Attempts at verifying a ledger that a running gateway keeps writing.</summary>
    public const int MaxAttempts = 10;

    /// <summary>
    /// Verifies the ledger. The journal, the projections and the epochs are read in separate queries, so a gateway
    /// writing meanwhile can make them disagree for a moment; every write appends an entry and moves the head, so a
    /// problem counts only when the head did not move during the whole verification (otherwise it is verified again).
    /// </summary>
    public static VerificationReport Verify(ILedgerStore store)
    {
        VerificationReport report = default!;
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var before = store.ReadHead();
            report = VerifyOnce(store);
            if (report.IsConsistent || store.ReadHead() == before) return report;
        }
        return report;
    }

    private static VerificationReport VerifyOnce(ILedgerStore store)
    {
        var state = new State(store.ReadContributions());
        foreach (var entry in store.ReadJournal())
        {
            if (state.Check(entry) is { } problem) return Fail(state, $"entry #{entry.Sequence} \"{entry.Id}\": {problem}");
        }
        if (state.CompareProjections(store) is { } mismatch) return Fail(state, mismatch);
        return new VerificationReport(true, null, state.Sequence, state.Balances.Count, state.Roots.Count);
    }

    private static VerificationReport Fail(State s, string problem) => new(false, problem, s.Sequence, s.Balances.Count, s.Roots.Count);

    private sealed class State(IReadOnlyList<StoredContribution> contributions)
    {
        private readonly Dictionary<long, StoredContribution> _contributions = contributions.GroupBy(c => c.Sequence).ToDictionary(g => g.Key, g => g.First());
        private readonly Dictionary<Cairn.Protocol.Crypto.Hash256, Cairn.Protocol.Messages.ContributionEntry> _published = [];
        private readonly HashSet<string> _names = new(StringComparer.Ordinal);
        public long Sequence;
        public Hash256 Previous;
        public long Epoch;
        public readonly Dictionary<string, long> Balances = new(StringComparer.Ordinal);
        public readonly Dictionary<string, HoldRecord> Holds = new(StringComparer.Ordinal);
        public readonly Dictionary<long, (Hash256 Root, long Sequence)> Roots = [];
        public readonly Dictionary<long, Hash256> Commitments = [];
        private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
        private readonly List<Hash256> _epochHashes = [];

        public string? Check(LedgerEntry e)
        {
            if (e.Sequence != Sequence + 1) return $"sequence {e.Sequence} follows #{Sequence} (an entry is missing or inserted)";
            if (e.Previous != Previous) return $"previous hash {e.Previous} does not match the hash {Previous} of entry #{Sequence}";
            if (!_ids.Add(e.Id)) return "the id appears twice in the journal";
            Hash256 computed = e.ComputeHash();
            if (computed != e.Hash) return $"stored hash {e.Hash} differs from the recomputed {computed} (the entry was altered)";
            if (e.Epoch != Epoch) return $"epoch {e.Epoch}, but epoch {Epoch} is open";
            if (e.Kind is < EntryKind.Deposit or > EntryKind.ContributionPublished) return $"unknown kind {(int)e.Kind}";
            bool record = e.Kind is EntryKind.EpochClose or EntryKind.EpochSecretCommitted or EntryKind.EpochSecretRevealed or EntryKind.ChallengeDrawn or EntryKind.ContributionPublished;
            if (e.Postings.Count == 0 && !record) return "no postings";
            if (e.Postings.Count != 0 && record) return $"a {e.Kind} entry moves money";
            if (e.Kind == EntryKind.Unbond ? e.UnlockEpoch <= e.Epoch : e.UnlockEpoch != 0) return $"unlock epoch {e.UnlockEpoch} is impossible for a {e.Kind} in epoch {e.Epoch}";
            Int128 sum = 0;
            foreach (var p in e.Postings)
            {
                if (!Account.TryParse(p.Account, out _, out string? canonical, out string? error)) return error;
                if (canonical != p.Account) return $"account {p.Account} is not in canonical form ({canonical})";
                if (p.Amount == 0) return $"zero posting to {p.Account}";
                sum += p.Amount;
                long before = Balances.GetValueOrDefault(p.Account);
                Int128 after = (Int128)before + p.Amount;
                if (after > long.MaxValue || after < long.MinValue) return $"{p.Account} overflows";
                Balances[p.Account] = (long)after;
            }
            if (sum != 0) return $"postings sum to {sum}, not zero";
            foreach (var p in e.Postings)
            {
                if (Balances[p.Account] < 0 && p.Account != Account.External) return $"{p.Account} goes negative ({Balances[p.Account]})";
            }
            if (CheckKind(e) is { } kindProblem) return kindProblem;
            Sequence = e.Sequence;
            Previous = e.Hash;
            return null;
        }

        private string? CheckKind(LedgerEntry e)
        {
            switch (e.Kind)
            {
                case EntryKind.Hold:
                    if (Holds.ContainsKey(e.Reference)) return $"hold \"{e.Reference}\" is placed twice";
                    long amount = e.Postings.Where(p => p.Account == Account.Hold(e.Reference)).Sum(p => p.Amount);
                    if (amount <= 0) return $"hold \"{e.Reference}\" credits nothing to {Account.Hold(e.Reference)}";
                    Holds[e.Reference] = new HoldRecord(e.Reference, e.Subject, amount, null);
                    break;
                case EntryKind.Settle or EntryKind.Release:
                    if (!Holds.TryGetValue(e.Reference, out var hold)) return $"closes hold \"{e.Reference}\", which was never placed";
                    if (hold.ClosedBy is { } by) return $"closes hold \"{e.Reference}\", already closed by #{by}";
                    if (Balances.GetValueOrDefault(Account.Hold(e.Reference)) != 0) return $"leaves {Balances[Account.Hold(e.Reference)]} in hold \"{e.Reference}\"";
                    Holds[e.Reference] = hold with { ClosedBy = e.Sequence };
                    break;
                case EntryKind.EpochSecretCommitted:
                    if (e.Reference != Epoch.ToString(System.Globalization.CultureInfo.InvariantCulture)) return $"commits a secret for epoch \"{e.Reference}\" while epoch {Epoch} is open";
                    Commitments[Epoch] = e.Authorization;
                    break;
                case EntryKind.EpochSecretRevealed:
                    if (!long.TryParse(e.Reference, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long revealed) || revealed >= Epoch)
                        return $"reveals the secret of epoch \"{e.Reference}\", which is not closed";
                    if (!Commitments.TryGetValue(revealed, out var commitment)) return $"reveals the secret of epoch {revealed}, which committed none";
                    if (!Cairn.Protocol.Sampling.ChallengeDraw.VerifyReveal(commitment, e.Authorization.ToArray())) return $"the revealed secret of epoch {revealed} does not hash to its commitment";
                    break;
                case EntryKind.ContributionPublished:
                    if (CheckContribution(e) is { } contributionProblem) return contributionProblem;
                    break;
                case EntryKind.EpochClose:
                    var root = MerkleRoot.Compute(_epochHashes);
                    if (root != e.Authorization) return $"records Merkle root {e.Authorization} for epoch {Epoch}; its entries give {root}";
                    Roots[Epoch] = (root, e.Sequence);
                    _epochHashes.Clear();
                    Epoch++;
                    return null;
            }
            foreach (var p in e.Postings)
            {
                if (p.Account.StartsWith("hold:", StringComparison.Ordinal) && e.Kind is not (EntryKind.Hold or EntryKind.Settle or EntryKind.Release))
                    return $"a {e.Kind} entry moves {p.Account}";
            }
            _epochHashes.Add(e.Hash);
            return null;
        }

        private string? CheckContribution(LedgerEntry e)
        {
            if (!_contributions.TryGetValue(e.Sequence, out var stored)) return "publishes a contribution whose message is not in the contributions table";
            if (stored.Hash != e.Authorization) return $"the contributions table records message {stored.Hash}, the entry authorizes {e.Authorization}";
            if (!Cairn.Protocol.Messages.ContributionEntry.TryDecode(stored.Message, out var entry, out var decoded)) return $"its stored contribution message does not decode: {decoded}";
            if (entry!.Hash() != e.Authorization) return $"its stored contribution message hashes to {entry.Hash()}, not to the authorization {e.Authorization} (the message was altered)";
            var signature = entry.Verify();
            if (!signature.IsValid) return $"its contribution message fails verification: {signature}";
            if (e.Subject != entry.Publisher.ToString() || e.Reference != LedgerBook.PublicationReference(entry))
                return $"subject \"{e.Subject}\" and reference \"{e.Reference}\" do not match the message's publisher {entry.Publisher} and {LedgerBook.PublicationReference(entry)}";
            if (entry.Kind == Cairn.Protocol.Messages.ContributionKind.Adapter &&
                (!_published.TryGetValue(entry.BaseModel, out var baseModel) || baseModel.Kind != Cairn.Protocol.Messages.ContributionKind.Model))
                return $"registers adapter \"{entry.Name}\" for base model {entry.BaseModel}, which no earlier entry registers as a model";
            if (!_published.TryAdd(entry.FileSha256, entry)) return $"registers file {entry.FileSha256} a second time";
            if (!_names.Add(e.Reference)) return $"registers {e.Reference} a second time";
            return null;
        }

        public string? CompareProjections(ILedgerStore store)
        {
            if (_contributions.Count != _published.Count || contributions.Count != _published.Count)
                return $"the contributions table holds {contributions.Count} messages; the journal publishes {_published.Count}";
            var head = store.ReadHead();
            if (head != new LedgerHead(Sequence, Previous, Epoch))
                return $"the head says #{head.Sequence} {head.Hash} epoch {head.Epoch}; the journal ends at #{Sequence} {Previous} epoch {Epoch}";
            var stored = store.ReadBalances().ToDictionary(b => b.Account, b => b.Balance, StringComparer.Ordinal);
            foreach (var (account, balance) in Balances.OrderBy(b => b.Key, StringComparer.Ordinal))
            {
                if (!stored.TryGetValue(account, out long s)) return $"balance of {account}: the journal gives {balance}, the balances table has no row";
                if (s != balance) return $"balance of {account}: the journal gives {balance}, the balances table says {s}";
            }
            foreach (var account in stored.Keys.Order(StringComparer.Ordinal))
            {
                if (!Balances.ContainsKey(account)) return $"balance of {account}: the balances table has {stored[account]}, but no entry posts to it";
            }
            var holds = store.ReadHolds().ToDictionary(h => h.HoldId, StringComparer.Ordinal);
            foreach (var (id, hold) in Holds.OrderBy(h => h.Key, StringComparer.Ordinal))
            {
                if (!holds.TryGetValue(id, out var s) || s != hold) return $"hold \"{id}\": the journal gives {hold}, the holds table has {(holds.ContainsKey(id) ? s : "no row")}";
            }
            if (holds.Keys.FirstOrDefault(id => !Holds.ContainsKey(id)) is { } extra) return $"hold \"{extra}\" is in the holds table but no entry placed it";
            var epochs = store.ReadEpochs();
            if (epochs.Count != Roots.Count) return $"the epochs table lists {epochs.Count} closed epochs; the journal closes {Roots.Count}";
            foreach (var r in epochs)
            {
                if (!Roots.TryGetValue(r.Epoch, out var root) || root.Root != r.Root || root.Sequence != r.CloseSequence)
                    return $"epoch {r.Epoch}: the epochs table records root {r.Root} at #{r.CloseSequence}, the journal does not";
            }
            return null;
        }
    }
}
