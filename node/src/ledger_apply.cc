// The ledger rules, case by case (docs/PROTOCOL.md "Validity", "Forks").
#include "node/src/ledger_apply.h"

#include "keiretsu/common/overloaded.h"
#include "keiretsu/crypto/hash.h"
#include "keiretsu/protocol/balance.h"
#include "keiretsu/protocol/governance.h"
#include "node/src/ledger_gov.h"

namespace keiretsu::node {

using protocol::Fault;
using protocol::RecordCheck;
using protocol::SignedEntry;

namespace {
IngestResult Result_(Outcome o, const SignedEntry& se, Status why = Status::Ok()) {
  return IngestResult{o, std::move(why), se.id, se.entry.author, se.entry.seq};
}
std::string FeedName(const PublicKey& author, uint64_t seq) {
  return author.Short() + "/" + std::to_string(seq);
}
}  // namespace

FeedState& Ledger::Apply::State(const PublicKey& author) {
  auto it = touched_.find(author);
  if (it != touched_.end()) return it->second;
  auto c = committed_.find(author);
  return touched_[author] = c == committed_.end() ? FeedState{} : c->second;
}

Ledger::GovFeed& Ledger::Apply::Gov(const PublicKey& author) {
  auto it = touched_gov_.find(author);
  if (it != touched_gov_.end()) return it->second;
  auto c = ledger_.gov_feeds_.find(author);
  if (c != ledger_.gov_feeds_.end()) return touched_gov_[author] = c->second;
  return touched_gov_[author] = NewGovFeed(*h_, author);
}

bool Ledger::Apply::Rotatable(const PublicKey& author) {
  return !Gov(author).keys.back().next_key_digest.IsZero();
}

const protocol::KeySpan& Ledger::Apply::SpanBefore(const PublicKey& author, uint64_t seq) {
  return node::SpanBefore(Gov(author).keys, seq);
}

bool Ledger::Apply::VerifiedUnder(const RecordCheck& check, const PublicKey& key) {
  if (check.signer == key) return true;
  const SignedEntry& se = *check.signed_entry;
  crypto::Signature sig;
  std::copy(se.record.end() - 64, se.record.end(), sig.begin());
  return crypto::Verify(key, protocol::SigningMessage(se.content()), sig);
}

uint64_t Ledger::Apply::Cut(const protocol::EpochHistory& h, const PublicKey& author,
                            uint64_t eff) {
  return CountedSeq(h, author, eff);
}

bool Ledger::Apply::Counts(const protocol::EpochHistory& h, const protocol::Entry& e) {
  return EntryCounts(h, e);
}

Result<Bytes> Ledger::Apply::EntryAt(const PublicKey& author, uint64_t seq) {
  auto it = new_entries_.find({author, seq});
  if (it != new_entries_.end()) return it->second;
  KEIRETSU_ASSIGN_OR_RETURN(auto rec, ledger_.store_->GetEntry(author, seq));
  if (!rec) return Corruption("entry " + FeedName(author, seq) + " below the head is missing");
  return std::move(*rec);
}

Result<std::map<EntryId, Bytes>> Ledger::Apply::PendingAt(const PublicKey& author, uint64_t seq) {
  std::map<EntryId, Bytes> out;
  // Nothing is kept anywhere (the usual case while a feed catches up in
  // order): no read. The count is the store's, kept with every commit and
  // recounted whenever the ledger reloads from the store.
  if (ledger_.pending_count_ == 0 && new_pending_.empty()) return out;
  KEIRETSU_ASSIGN_OR_RETURN(auto stored, ledger_.store_->PendingAt(author, seq));
  for (auto& rec : stored) {
    auto id = protocol::IdOfRecord(rec);
    if (id && !dropped_pending_.count({author, seq, *id})) out[*id] = std::move(rec);
  }
  for (auto it = new_pending_.lower_bound({author, seq, EntryId{}});
       it != new_pending_.end() && std::get<0>(it->first) == author &&
       std::get<1>(it->first) == seq;
       ++it)
    out[std::get<2>(it->first)] = it->second;
  return out;
}

IngestResult Ledger::Apply::Take(RecordCheck& check, bool as_evidence) {
  IngestResult r = Decide(check, as_evidence);
  if (r.outcome == Outcome::kApplied) PromotePending(r.author);
  return r;
}

IngestResult Ledger::Apply::Decide(RecordCheck& check, bool as_evidence) {
  if (protocol::IsUnattributable(check.fault))
    return IngestResult{Outcome::kRejected, check.status, {}, {}, 0};
  const SignedEntry& se = *check.signed_entry;
  const PublicKey& author = se.entry.author;
  const uint64_t seq = se.entry.seq;
  if (seq == 0) return Result_(Outcome::kRejected, se, InvalidArgument("seq must start at 1"));
  // Stratum 2: an author that is not a member of any epoch (yet) is kept.
  if (!h_->EverMember(author)) {
    if (!VerifiedUnder(check, author))
      return Result_(Outcome::kRejected, se,
                     Unauthenticated("entry " + FeedName(author, seq) +
                                     " does not verify under its author's key"));
    check.fault = Fault::kUnknownAuthor;
    check.status = FailedPrecondition("author of entry " + FeedName(author, seq) +
                                      " is not (yet) known as a member; kept until it is");
    return KeepForMembership(check);
  }
  FeedState& st = State(author);

  if (seq <= st.head_seq) {  // a seq we hold: the same entry, or a fork
    auto held = EntryAt(author, seq);
    if (!held.ok()) return Fail(se, held.status());
    if (protocol::IdOfRecord(*held) == se.id) return Result_(Outcome::kDuplicate, se);
    // A second record signed by the key in force there proves a fork.
    if (VerifiedUnder(check, SpanBefore(author, seq).key))
      return Fork(author, seq, *held, se.record);
    return Result_(Outcome::kRejected, se,
                   Unauthenticated("entry " + FeedName(author, seq) +
                                   " does not verify under the key in force at its seq"));
  }
  if (st.stop_seq != 0 && seq >= st.stop_seq)
    return Result_(Outcome::kIgnored, se,
                   FailedPrecondition("feed " + author.Short() + " stopped at seq " +
                                      std::to_string(st.stop_seq)));
  if (const uint64_t left = Gov(author).left_seq; left != 0 && seq > left)
    return Result_(
        Outcome::kIgnored, se,
        FailedPrecondition("feed " + author.Short() + " left at seq " + std::to_string(left)));
  // A local resource limit on lone records far ahead (sync sends a feed in
  // seq order, so honest peers never do that). Never applied to a proof's
  // records: refusing evidence for its distance would make what this node
  // agrees on depend on the setting (PROTOCOL.md 8.2 step 5).
  if (!as_evidence && seq - st.head_seq > ledger_.options_.max_pending_ahead)
    return Result_(Outcome::kRejected, se,
                   ResourceExhausted("entry " + FeedName(author, seq) + " is more than " +
                                     std::to_string(ledger_.options_.max_pending_ahead) +
                                     " entries ahead of the feed's head"));
  auto waiting = PendingAt(author, seq);
  if (!waiting.ok()) return Fail(se, waiting.status());
  if (waiting->count(se.id)) return Result_(Outcome::kDuplicate, se);
  if (!waiting->empty()) {
    // A feed whose key can never change: any other signed record kept at
    // this seq proves a fork, whatever either names as prev (v1).
    if (!Rotatable(author)) return Fork(author, seq, waiting->begin()->second, se.record);
    // Otherwise the key in force above the head is not known yet: both are
    // kept and decided when the feed reaches this seq (19.7).
    Keep(se);
    if (seq == st.head_seq + 1) PromotePending(author);
    const FeedState& now = State(author);
    if (now.head_seq >= seq) {
      auto at = EntryAt(author, seq);
      if (at.ok() && protocol::IdOfRecord(*at) == se.id) return Result_(Outcome::kApplied, se);
    }
    return Result_(Outcome::kPending, se);
  }
  if (seq == st.head_seq + 1 && se.entry.prev == st.head_id) {  // it chains onto the head
    switch (check.fault) {
      case Fault::kNone:
      case Fault::kInvalidBody: return Chained(check);
      case Fault::kUnknownKind:  // an upgrade will tell; the feed waits here
        Keep(se);
        kept_unknown_kinds_[{author, seq, se.id}] = check.kind_tag;
        return Result_(Outcome::kPending, se, check.status);
      case Fault::kMalformed:
      case Fault::kWrongNetwork:
      case Fault::kUnknownKey:
      case Fault::kBadSignature:
      case Fault::kUnknownAuthor: break;  // returned above
    }
    return Fail(se, Internal("unexpected fault " + std::string(protocol::FaultName(check.fault))));
  }
  // Ahead of its prev, or naming a prev other than the entry held at seq-1.
  // Either way it is kept: refusing a signed entry here and treating the
  // same bytes as fork evidence when they arrive later would make the
  // outcome depend on arrival order.
  Keep(se);
  if (check.fault == Fault::kUnknownKind) {
    kept_unknown_kinds_[{author, seq, se.id}] = check.kind_tag;
    return Result_(Outcome::kPending, se, check.status);
  }
  if (seq > st.head_seq + 1) return Result_(Outcome::kPending, se);
  return Result_(
      Outcome::kPending, se,
      FailedPrecondition("entry " + FeedName(author, seq) + " names prev " + se.entry.prev.Short() +
                         " but this node holds " +
                         (st.head_seq == 0 ? std::string("no entry") : st.head_id.Short()) +
                         " at seq " + std::to_string(st.head_seq) +
                         "; kept: another entry at this seq would prove a fork"));
}

// A record of a member at head + 1 naming the head as prev (19.5, 19.7):
// a rotate signed by the pre-committed next key, or any record signed by
// the key in force; then its body rules.
IngestResult Ledger::Apply::Chained(RecordCheck& check) {
  const SignedEntry& se = *check.signed_entry;
  const PublicKey& author = se.entry.author;
  const protocol::KeySpan k = SpanBefore(author, se.entry.seq);
  const protocol::Rotate* rot =
      check.fault == Fault::kNone ? std::get_if<protocol::Rotate>(&se.entry.body) : nullptr;
  const bool by_next = rot && !k.next_key_digest.IsZero() && rot->new_key != k.key &&
                       protocol::NextKeyDigest(rot->new_key) == k.next_key_digest &&
                       VerifiedUnder(check, rot->new_key);
  if (!by_next && !VerifiedUnder(check, k.key))
    return Result_(Outcome::kRejected, se,
                   Unauthenticated("entry " + FeedName(author, se.entry.seq) +
                                   " does not verify under the key in force"));
  if (check.fault == Fault::kInvalidBody) return EndFeed(se, check.status);
  if (rot) {
    std::string why = RotationProblem(Gov(author).keys, *rot, by_next);
    if (!why.empty())
      return EndFeed(se, InvalidArgument(why).WithContext(
                             "entry " + FeedName(author, se.entry.seq) + " breaks a rule"));
  }
  return Extend(check, State(author));
}

// An author not (yet) known as a member (stratum 2): kept as it is, with no
// feed state and no fork check, until governance makes it a member; then
// Release decides its records in feed order. Bounded in total.
IngestResult Ledger::Apply::KeepForMembership(const RecordCheck& check) {
  const SignedEntry& se = *check.signed_entry;
  auto waiting = PendingAt(se.entry.author, se.entry.seq);
  if (!waiting.ok()) return Fail(se, waiting.status());
  if (waiting->count(se.id)) return Result_(Outcome::kDuplicate, se);
  const uint64_t limit = ledger_.options_.max_pending_non_members;
  if (ledger_.non_member_pending_ + kept_for_membership_ >= limit)
    return Result_(Outcome::kRejected, se,
                   ResourceExhausted("already keeping " + std::to_string(limit) +
                                     " entries of authors not known as members"));
  Keep(se);
  ++kept_for_membership_;
  return Result_(Outcome::kPending, se, check.status);
}

void Ledger::Apply::Keep(const SignedEntry& se) {
  batch_.PutPending(se.entry.author, se.entry.seq, se.id, se.record);
  new_pending_[{se.entry.author, se.entry.seq, se.id}] = se.record;
  ++pending_delta_;
}

IngestResult Ledger::Apply::Fail(const SignedEntry& se, const Status& why) {
  if (error_.ok()) error_ = why;
  return Result_(Outcome::kRejected, se, why);
}

IngestResult Ledger::Apply::Extend(const RecordCheck& check, FeedState& st) {
  const SignedEntry& se = *check.signed_entry;
  batch_.PutEntry(se.entry.author, se.entry.seq, se.id, se.record);
  new_entries_[{se.entry.author, se.entry.seq}] = se.record;
  st.head_seq = se.entry.seq;
  st.head_id = se.id;
  // The caller returned early if the feed stopped at or before this seq.
  st.effective_id = se.id;
  if (Counts(*h_, se.entry)) Effects(se.entry, se.id, /*add=*/true);
  GovFeed& g = Gov(se.entry.author);
  std::visit(Overloaded{
                 [&](const protocol::Propose& p) {
                   g.records[se.entry.seq] = {se.entry.seq, se.id, p};
                   gov_dirty_ = true;
                 },
                 [&](const protocol::Vote& v) {
                   g.records[se.entry.seq] = {se.entry.seq, se.id, v};
                   gov_dirty_ = true;
                 },
                 [&](const protocol::Rotate& r) {
                   g.keys.push_back({se.entry.seq, r.new_key, r.next_key_digest});
                 },
                 [&](const protocol::Leave&) {
                   g.left_seq = se.entry.seq;
                   gov_dirty_ = true;
                 },
                 [&](const protocol::ClearingPropose&) { new_proposers_.insert(se.entry.author); },
                 [](const auto&) {},
             },
             se.entry.body);
  batch_.AppendLog(++log_cursor_, se.id);
  heads_to_write_.insert(se.entry.author);
  applied_.push_back(AppliedEntry{log_cursor_, se.id, se.entry.author, se.entry.seq, se.record});
  // Nothing above a leave ever counts (19.6): what is kept there goes.
  if (g.left_seq != 0) {
    if (Status d = DropPendingFrom(se.entry.author, g.left_seq + 1); !d.ok() && error_.ok())
      error_ = d;
  }
  return Result_(Outcome::kApplied, se);
}

void Ledger::Apply::PromotePending(const PublicKey& author) {
  if (!h_->EverMember(author)) return;  // kept until admission
  for (;;) {
    FeedState& st = State(author);
    if (st.stop_seq != 0 && st.head_seq + 1 >= st.stop_seq) return;
    if (Gov(author).left_seq != 0) return;
    const uint64_t next = st.head_seq + 1;
    auto waiting = PendingAt(author, next);
    if (!waiting.ok()) {
      if (error_.ok()) error_ = waiting.status();
      return;
    }
    if (waiting->empty()) return;
    if (waiting->size() > 1) {
      if (!Rotatable(author)) {  // two signed entries at one seq (v1)
        auto it = waiting->begin();
        const Bytes& a = it->second;
        Fork(author, next, a, (++it)->second);
        return;
      }
      ChooseAt(author, next, *waiting);
      if (State(author).head_seq < next) return;
      continue;
    }
    // Verified when it was kept; only the position, key and rules are
    // re-decided.
    const auto& [id, record] = *waiting->begin();
    RecordCheck check = ledger_.FeedLocal(record, /*verify=*/false);
    if (!check.signed_entry || check.signed_entry->entry.prev != st.head_id) return;  // stays kept
    if (check.fault == Fault::kUnknownKind) return;  // stays kept until an upgrade
    // A key that never changes (a v1 founder's) verified it when it was kept.
    if (!Rotatable(author) && Gov(author).keys.size() == 1) check.signer = author;
    batch_.DeletePending(author, next, id);
    dropped_pending_.insert({author, next, id});
    new_pending_.erase({author, next, id});
    --pending_delta_;
    if (Chained(check).outcome != Outcome::kApplied) return;
  }
}

void Ledger::Apply::ChooseAt(const PublicKey& author, uint64_t seq,
                             std::map<EntryId, Bytes>& waiting) {
  const protocol::KeySpan k = SpanBefore(author, seq);
  std::map<EntryId, RecordCheck> by_key, by_next;  // 19.7's A and B
  for (auto& [id, record] : waiting) {
    RecordCheck c = ledger_.FeedLocal(record, /*verify=*/false);
    if (!c.signed_entry) continue;
    const protocol::Rotate* rot = c.fault == Fault::kNone
                                      ? std::get_if<protocol::Rotate>(&c.signed_entry->entry.body)
                                      : nullptr;
    if (rot && !k.next_key_digest.IsZero() && rot->new_key != k.key &&
        protocol::NextKeyDigest(rot->new_key) == k.next_key_digest &&
        VerifiedUnder(c, rot->new_key)) {
      c.signer = rot->new_key;
      by_next.emplace(id, std::move(c));
    } else if (VerifiedUnder(c, k.key)) {
      c.signer = k.key;
      by_key.emplace(id, std::move(c));
    }
  }
  auto fork_of_two = [&](const std::map<EntryId, RecordCheck>& ids) {
    auto it = ids.begin();
    const Bytes& a = it->second.signed_entry->record;
    Fork(author, seq, a, (++it)->second.signed_entry->record);
  };
  if (by_next.size() >= 2) return fork_of_two(by_next);
  RecordCheck* chosen = nullptr;
  std::vector<EntryId> overridden;
  if (by_next.size() == 1 && !by_key.empty()) {
    RecordCheck& r = by_next.begin()->second;
    const RecordCheck& old = by_key.begin()->second;
    bool beyond = false;
    auto later = ledger_.store_->ListPendingFor(author, seq + protocol::kRecoveryWindow);
    if (!later.ok()) {
      if (error_.ok()) error_ = later.status();
      return;
    }
    for (const auto& p : *later) {
      auto recs = PendingAt(p.author, p.seq);
      if (!recs.ok()) continue;
      for (auto& [pid, prec] : *recs) {
        RecordCheck pc = ledger_.FeedLocal(prec, /*verify=*/false);
        if (pc.signed_entry && VerifiedUnder(pc, k.key)) beyond = true;
      }
    }
    if (r.signed_entry->entry.prev != State(author).head_id || beyond) {
      Fork(author, seq, r.signed_entry->record, old.signed_entry->record);
      return;
    }
    chosen = &r;  // key recovery: the rotate overrides the retired key's records
    for (const auto& [id, c] : by_key) overridden.push_back(id);
  } else if (by_next.size() == 1) {
    chosen = &by_next.begin()->second;
  } else if (by_key.size() >= 2) {
    return fork_of_two(by_key);
  } else if (by_key.size() == 1) {
    chosen = &by_key.begin()->second;
  } else {
    return;
  }
  if (chosen->signed_entry->entry.prev != State(author).head_id) return;  // stays kept
  overridden.push_back(chosen->signed_entry->id);
  for (const EntryId& id : overridden) {
    batch_.DeletePending(author, seq, id);
    dropped_pending_.insert({author, seq, id});
    new_pending_.erase({author, seq, id});
    --pending_delta_;
  }
  Chained(*chosen);
}

// `a` is the record held, `b` the one that proves the fork.
IngestResult Ledger::Apply::Fork(const PublicKey& author, uint64_t seq, ByteView a, ByteView b) {
  const auto incoming = protocol::IdOfRecord(b);
  auto id_a = protocol::IdOfRecord(a), id_b = protocol::IdOfRecord(b);
  // Canonical evidence: the record with the lower id first.
  if (*id_b < *id_a) {
    std::swap(a, b);
    std::swap(id_a, id_b);
  }
  IngestResult r{Outcome::kForkProven,
                 FailedPrecondition("fork: " + FeedName(author, seq) + " signed twice (" +
                                    id_a->Short() + ", " + id_b->Short() + ")"),
                 incoming, author, seq};
  FeedState& st = State(author);
  if (st.stop_seq != 0 && st.stop_seq <= seq) {
    r.outcome = Outcome::kIgnored;
    return r;
  }
  Status s = StopAt(author, seq);
  if (!s.ok()) {
    if (error_.ok()) error_ = s;
    return IngestResult{Outcome::kRejected, s, r.id, author, seq};
  }
  st.stop_reason = storage::StopReason::kFork;
  heads_to_write_.insert(author);
  stopped_.push_back(storage::Evidence{author, seq, storage::StopReason::kFork,
                                       Bytes(a.begin(), a.end()), Bytes(b.begin(), b.end()), ""});
  batch_.PutEvidence(stopped_.back());
  return r;
}

IngestResult Ledger::Apply::EndFeed(const SignedEntry& se, const Status& why) {
  const PublicKey& author = se.entry.author;
  Status s = StopAt(author, se.entry.seq);
  if (!s.ok()) return Fail(se, s);
  FeedState& st = State(author);
  st.stop_reason = storage::StopReason::kInvalidEntry;
  heads_to_write_.insert(author);
  stopped_.push_back(storage::Evidence{
      author, se.entry.seq, storage::StopReason::kInvalidEntry, se.record, {}, why.message()});
  batch_.PutEvidence(stopped_.back());
  return Result_(Outcome::kFeedEnded, se, why);
}

// Stops `author`'s feed at `seq`: undoes the effects of effective entries
// from seq on and drops pending entries that can no longer count.
// REQUIRES: the feed is open or stopped above seq.
Status Ledger::Apply::StopAt(const PublicKey& author, uint64_t seq) {
  FeedState& st = State(author);
  for (uint64_t q = seq; q <= st.effective_seq(); ++q) {
    KEIRETSU_ASSIGN_OR_RETURN(Bytes rec, EntryAt(author, q));
    RecordCheck c = ledger_.FeedLocal(rec, /*verify=*/false);
    if (c.fault != Fault::kNone)
      return Corruption("stored entry " + FeedName(author, q) + " unreadable");
    if (Counts(*h_, c.signed_entry->entry))
      Effects(c.signed_entry->entry, c.signed_entry->id, /*add=*/false);
  }
  // The feed-local prefix ends before seq: so do its governance records,
  // keys and leave, and the feed is no longer open (19.8).
  GovFeed& g = Gov(author);
  g.records.erase(g.records.lower_bound(seq), g.records.end());
  while (g.keys.size() > 1 && g.keys.back().from_seq >= seq) g.keys.pop_back();
  if (g.left_seq >= seq) g.left_seq = 0;
  gov_dirty_ = true;
  if (seq <= 1) {
    st.effective_id = EntryId{};
  } else if (seq - 1 < st.effective_seq()) {
    KEIRETSU_ASSIGN_OR_RETURN(Bytes rec, EntryAt(author, seq - 1));
    st.effective_id = *protocol::IdOfRecord(rec);
  }
  st.stop_seq = seq;
  return DropPendingFrom(author, seq);
}

void Ledger::Apply::Effects(const protocol::Entry& e, const EntryId& id, bool add) {
  for (const protocol::Effect& effect : protocol::EffectsOf(e, id)) {
    std::visit(Overloaded{
                   [&](const protocol::DebtChange& c) {
                     protocol::DebtChange d = c;
                     if (!add) d.delta = -d.delta;
                     batch_.AddDebt(d);
                   },
                   [&](const protocol::OpensClaim& c) {
                     if (add)
                       batch_.IndexClaim(c.debtor, id, e.author, e.seq);
                     else
                       batch_.UnindexClaim(c.debtor, id);
                   },
                   [&](const protocol::AnswersClaim& a) {
                     if (add)
                       batch_.IndexAnswer(e.author, a.claim, id);
                     else
                       batch_.UnindexAnswer(e.author, a.claim, id);
                   },
               },
               effect);
  }
}

Status Ledger::Apply::DropPendingFrom(const PublicKey& author, uint64_t seq) {
  KEIRETSU_ASSIGN_OR_RETURN(auto stored, ledger_.store_->ListPendingFor(author, seq));
  for (const auto& p : stored) {
    if (dropped_pending_.insert({p.author, p.seq, p.id}).second) {
      batch_.DeletePending(p.author, p.seq, p.id);
      --pending_delta_;
    }
  }
  for (auto it = new_pending_.lower_bound({author, seq, EntryId{}});
       it != new_pending_.end() && std::get<0>(it->first) == author;) {
    batch_.DeletePending(author, std::get<1>(it->first), std::get<2>(it->first));
    dropped_pending_.insert(it->first);
    --pending_delta_;
    it = new_pending_.erase(it);
  }
  return Status::Ok();
}

void Ledger::Apply::Settle() {
  // Each pass that changes the chain admits, removes or re-thresholds; a
  // chain is at most as long as the governance records behind it.
  for (size_t pass = 0; gov_dirty_ && error_.ok(); ++pass) {
    gov_dirty_ = false;
    auto next = ComputeHistory(
        ledger_.zero_,
        [&](const protocol::InceptionCommitment& m) -> const GovFeed& {
          auto it = touched_gov_.find(m.id);
          if (it == touched_gov_.end() && !ledger_.gov_feeds_.contains(m.id))
            touched_gov_[m.id] = NewGovFeed(m);
          return Gov(m.id);
        },
        [&](const PublicKey& id) { return State(id).stop_seq == 0; });
    const bool changed =
        next->epochs.size() != h_->epochs.size() || next->current().hash != h_->current().hash;
    auto before = std::move(h_);
    h_ = std::move(next);
    if (!changed) continue;
    Recount(*before, *h_);
    std::vector<PublicKey> admitted;
    for (const protocol::EpochMember& m : h_->current().members)
      if (!before->EverMember(m.id)) admitted.push_back(m.id);
    for (const protocol::EpochMember& m : before->current().members)
      if (!h_->EverMember(m.id)) membership_changed_ = true;
    if (!admitted.empty()) membership_changed_ = true;
    for (const PublicKey& id : admitted) PromotePending(id);
    if (pass > 100000) {  // cannot happen: every pass consumes a proposal
      if (error_.ok()) error_ = Internal("governance did not settle");
      return;
    }
  }
  SettleClearing();
  WriteHeads();
}

void Ledger::Apply::WriteHeads() {
  for (const PublicKey& author : heads_to_write_) batch_.SetFeedState(author, State(author));
  heads_to_write_.clear();
}

void Ledger::Apply::SettleClearing() {
  if (!error_.ok()) return;
  std::set<PublicKey> proposers = ledger_.clearing_proposers_;
  proposers.insert(new_proposers_.begin(), new_proposers_.end());
  if (proposers.empty()) return;  // no proposal counts: no set-off either
  auto feeds = ClearingFeedsOf(
      *h_,
      [&](const PublicKey& a) {  // peeks: adds nothing to touched_
        auto t = touched_.find(a);
        if (t != touched_.end()) return t->second.effective_seq();
        auto c = committed_.find(a);
        return c == committed_.end() ? uint64_t{0} : c->second.effective_seq();
      },
      [&](const PublicKey& a, uint64_t seq) { return EntryAt(a, seq); },
      [&](ByteView rec) { return ledger_.FeedLocal(rec, /*verify=*/false); }, proposers);
  if (!feeds.ok()) {
    error_ = feeds.status();
    return;
  }
  SetOffs now = CommittedSetOffs(protocol::DecideClearing(*feeds));
  const SetOffs& before = ledger_.set_offs_;
  for (const auto& [id, legs] : before)
    if (!now.contains(id))
      for (protocol::DebtChange d : legs) {
        d.delta = -d.delta;
        batch_.AddDebt(d);
      }
  for (const auto& [id, legs] : now)
    if (!before.contains(id))
      for (const protocol::DebtChange& d : legs) batch_.AddDebt(d);
  set_offs_ = std::move(now);
}

void Ledger::Apply::Recount(const protocol::EpochHistory& from, const protocol::EpochHistory& to) {
  const bool same_members = from.current().members.size() == to.current().members.size() &&
                            std::all_of(to.current().members.begin(), to.current().members.end(),
                                        [&](const auto& m) { return from.EverMember(m.id); });
  std::set<PublicKey> authors;
  for (const auto& [a, st] : committed_) authors.insert(a);
  for (const auto& [a, st] : touched_) authors.insert(a);
  for (const PublicKey& author : authors) {
    const uint64_t eff = State(author).effective_seq();
    const uint64_t c0 = Cut(from, author, eff), c1 = Cut(to, author, eff);
    const uint64_t lo = same_members ? std::min(c0, c1) : 0;
    const uint64_t hi = std::max(c0, c1);
    for (uint64_t q = lo + 1; q <= hi; ++q) {
      auto rec = EntryAt(author, q);
      if (!rec.ok()) {
        if (error_.ok()) error_ = rec.status();
        return;
      }
      RecordCheck c = ledger_.FeedLocal(*rec, /*verify=*/false);
      if (c.fault != Fault::kNone) {
        if (error_.ok()) error_ = Corruption("stored entry " + FeedName(author, q) + " unreadable");
        return;
      }
      const bool before = Counts(from, c.signed_entry->entry);
      const bool after = Counts(to, c.signed_entry->entry);
      if (before != after) Effects(c.signed_entry->entry, c.signed_entry->id, after);
    }
  }
}

}  // namespace keiretsu::node
