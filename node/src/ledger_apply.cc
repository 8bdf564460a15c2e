// The ledger rules, case by case (docs/PROTOCOL.md "Validity", "Forks").
#include "node/src/ledger_apply.h"

#include "keiretsu/common/overloaded.h"
#include "keiretsu/protocol/balance.h"

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

Result<Bytes> Ledger::Apply::EntryAt(const PublicKey& author, uint64_t seq) {
  auto it = new_entries_.find({author, seq});
  if (it != new_entries_.end()) return it->second;
  KEIRETSU_ASSIGN_OR_RETURN(auto rec, ledger_.store_->GetEntry(author, seq));
  if (!rec) return Corruption("entry " + FeedName(author, seq) + " below the head is missing");
  return std::move(*rec);
}

Result<std::map<EntryId, Bytes>> Ledger::Apply::PendingAt(const PublicKey& author, uint64_t seq) {
  std::map<EntryId, Bytes> out;
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
  protocol::CheckMembership(check, ledger_.membership_);  // stratum 2
  if (check.fault == Fault::kUnknownAuthor) return KeepForMembership(check);
  FeedState& st = State(author);

  if (seq <= st.head_seq) {  // a seq we hold: the same entry, or a fork
    auto held = EntryAt(author, seq);
    if (!held.ok()) return Fail(se, held.status());
    if (protocol::IdOfRecord(*held) == se.id) return Result_(Outcome::kDuplicate, se);
    return Fork(author, seq, *held, se.record);
  }
  if (st.stop_seq != 0 && seq >= st.stop_seq)
    return Result_(Outcome::kIgnored, se,
                   FailedPrecondition("feed " + author.Short() + " stopped at seq " +
                                      std::to_string(st.stop_seq)));
  // A local resource limit on lone records far ahead (sync sends a feed in
  // seq order, so honest peers never do that). Never applied to a proof's
  // records: refusing evidence for its distance would make what this node
  // agrees on depend on the setting (PROTOCOL.md 8.2 step 5).
  if (!as_evidence && seq - st.head_seq > ledger_.options_.max_pending_ahead)
    return Result_(Outcome::kRejected, se,
                   ResourceExhausted("entry " + FeedName(author, seq) + " is more than " +
                                     std::to_string(ledger_.options_.max_pending_ahead) +
                                     " entries ahead of the feed's head"));
  // Any other signed record already kept at this seq proves a fork, whatever
  // either names as prev: the author signed two entries at one seq.
  auto waiting = PendingAt(author, seq);
  if (!waiting.ok()) return Fail(se, waiting.status());
  if (waiting->count(se.id)) return Result_(Outcome::kDuplicate, se);
  if (!waiting->empty()) return Fork(author, seq, waiting->begin()->second, se.record);
  if (seq == st.head_seq + 1 && se.entry.prev == st.head_id) {  // it chains onto the head
    switch (check.fault) {
      case Fault::kNone: return Extend(check, st);
      case Fault::kInvalidBody: return EndFeed(se, check.status);
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
  Effects(se.entry, se.id, /*add=*/true);
  batch_.AppendLog(++log_cursor_, se.id);
  batch_.SetFeedState(se.entry.author, st);
  applied_.push_back(AppliedEntry{log_cursor_, se.id, se.entry.author, se.entry.seq, se.record});
  return Result_(Outcome::kApplied, se);
}

void Ledger::Apply::PromotePending(const PublicKey& author) {
  for (;;) {
    FeedState& st = State(author);
    if (st.stop_seq != 0 && st.head_seq + 1 >= st.stop_seq) return;
    const uint64_t next = st.head_seq + 1;
    auto waiting = PendingAt(author, next);
    if (!waiting.ok()) {
      if (error_.ok()) error_ = waiting.status();
      return;
    }
    if (waiting->empty()) return;
    if (waiting->size() > 1) {  // two signed entries at one seq
      auto it = waiting->begin();
      const Bytes& a = it->second;
      Fork(author, next, a, (++it)->second);
      return;
    }
    // Verified when it was kept; only the position and rules are re-decided.
    const auto& [id, record] = *waiting->begin();
    RecordCheck check = ledger_.FeedLocal(record, /*verify=*/false);
    if (!check.signed_entry || check.signed_entry->entry.prev != st.head_id) return;  // stays kept
    if (check.fault == Fault::kUnknownKind) return;  // stays kept until an upgrade
    protocol::CheckMembership(check, ledger_.membership_);
    if (check.fault == Fault::kUnknownAuthor) return;  // stays kept until admission
    batch_.DeletePending(author, next, id);
    dropped_pending_.insert({author, next, id});
    new_pending_.erase({author, next, id});
    --pending_delta_;
    if (Decide(check, /*as_evidence=*/false).outcome != Outcome::kApplied) return;
  }
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
  batch_.SetFeedState(author, st);
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
  batch_.SetFeedState(author, st);
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
    Effects(c.signed_entry->entry, c.signed_entry->id, /*add=*/false);
  }
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

}  // namespace keiretsu::node
