// Store on RocksDB: batches, commits and queries (opening and recovery are
// in rocksdb_open.cc). No RocksDB type leaves storage/src.
#include <rocksdb/write_batch.h>

#include <cstring>
#include <map>

#include "storage/src/codec.h"
#include "storage/src/rocksdb_impl.h"

namespace keiretsu::storage {
namespace {

struct Op {
  Cf cf;
  bool is_delete;
  bool is_merge;
  std::string key;
  std::string value;
};

}  // namespace

struct Batch::Rep {
  std::vector<Op> ops;
  // Balance changes, summed per key: one merge operand per balance a
  // batch touches rather than one per entry (the merge adds, so the sum
  // is the same; each operand is a memtable insert).
  std::map<std::string, Amount128> debts;
  void Put(Cf cf, std::string k, std::string v) {
    ops.push_back({cf, false, false, std::move(k), std::move(v)});
  }
};

Batch::Batch() : rep_(std::make_unique<Rep>()) {}
Batch::~Batch() = default;
Batch::Batch(Batch&&) noexcept = default;
Batch& Batch::operator=(Batch&&) noexcept = default;
size_t Batch::size() const {
  return rep_->ops.size() + rep_->debts.size();
}

void Batch::PutEntry(const PublicKey& author, uint64_t seq, const EntryId& id, ByteView record) {
  rep_->Put(kEntries, codec::FeedKey(author, seq), std::string(AsChars(record)));
  rep_->Put(kIds, std::string(AsChars(id.View())), codec::EncodeLocation(author, seq));
}
void Batch::SetFeedState(const PublicKey& author, const FeedState& state) {
  rep_->Put(kHeads, codec::AuthorPrefix(author), codec::EncodeFeedState(state));
}
void Batch::AddDebt(const protocol::DebtChange& c) {
  rep_->debts[codec::BalanceKey(c.creditor, c.debtor, c.unit)] += c.delta;
  rep_->debts[codec::BalanceKey(c.debtor, c.creditor, c.unit)] -= c.delta;
}
void Batch::PutPending(const PublicKey& author, uint64_t seq, const EntryId& id, ByteView record) {
  rep_->Put(kPending, codec::PendingKey(author, seq, id), std::string(AsChars(record)));
}
void Batch::DeletePending(const PublicKey& author, uint64_t seq, const EntryId& id) {
  rep_->ops.push_back({kPending, true, false, codec::PendingKey(author, seq, id), {}});
}
void Batch::PutEvidence(const Evidence& e) {
  rep_->Put(kEvidence, codec::FeedKey(e.author, e.seq), codec::EncodeEvidence(e));
}

void Batch::IndexClaim(const PublicKey& debtor, const EntryId& claim, const PublicKey& creditor,
                       uint64_t seq) {
  rep_->Put(kClaims, codec::ClaimKey(debtor, claim), codec::FeedKey(creditor, seq));
}
void Batch::UnindexClaim(const PublicKey& debtor, const EntryId& claim) {
  rep_->ops.push_back({kClaims, true, false, codec::ClaimKey(debtor, claim), {}});
}
void Batch::IndexAnswer(const PublicKey& debtor, const EntryId& claim, const EntryId& answer) {
  rep_->Put(kAnswers, codec::ClaimKey(debtor, claim) + std::string(AsChars(answer.View())), {});
}
void Batch::UnindexAnswer(const PublicKey& debtor, const EntryId& claim, const EntryId& answer) {
  rep_->ops.push_back({kAnswers,
                       true,
                       false,
                       codec::ClaimKey(debtor, claim) + std::string(AsChars(answer.View())),
                       {}});
}
void Batch::AppendLog(uint64_t cursor, const EntryId& id) {
  rep_->Put(kLog, codec::CursorKey(cursor), std::string(AsChars(id.View())));
}

void Batch::PutRequest(std::string_view request_id, const RequestRecord& record) {
  rep_->Put(kRequests, std::string(request_id), codec::EncodeRequestRecord(record));
}

Status Store::Commit(Batch& batch, bool sync) {
  KEIRETSU_RETURN_IF_ERROR(impl_->CheckBeforeWrite());
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  // Built and written under one shared lock: a reopen replaces the handles.
  rocksdb::Status s = impl_->WithDb(
      [&](rocksdb::DB& db, const std::vector<rocksdb::ColumnFamilyHandle*>& cfs) {
        rocksdb::WriteBatch wb;
        for (const Op& op : batch.rep_->ops) {
          auto* h = cfs[op.cf];
          rocksdb::Status b = op.is_delete  ? wb.Delete(h, op.key)
                              : op.is_merge ? wb.Merge(h, op.key, op.value)
                                            : wb.Put(h, op.key, op.value);
          if (!b.ok()) return b;
        }
        for (const auto& [key, delta] : batch.rep_->debts) {
          rocksdb::Status b = wb.Merge(cfs[kBalances], key, codec::EncodeAmount(delta));
          if (!b.ok()) return b;
        }
        return db.Write(wo, &wb);
      },
      Impl::ClosedError());
  if (!s.ok()) return impl_->OnWriteFailure(s);
  return Status::Ok();
}

std::map<PublicKey, FeedState> Store::LoadFeedStates() const {
  std::map<PublicKey, FeedState> out;
  (void)impl_->Scan(kHeads, "", [&](std::string_view k, std::string_view v) {
    FeedState st;
    PublicKey author;
    if (k.size() == 32 && codec::DecodeFeedState(v, &st)) {
      std::memcpy(author.bytes.data(), k.data(), 32);
      out[author] = st;
    }
    return true;
  });
  return out;
}

Result<std::optional<Bytes>> Store::GetEntry(const PublicKey& author, uint64_t seq) const {
  std::string v;
  rocksdb::Status s = impl_->Get(kEntries, codec::FeedKey(author, seq), &v);
  if (s.IsNotFound()) return std::optional<Bytes>();
  KEIRETSU_RETURN_IF_ERROR(FromRocks(s, "read entry"));
  return std::optional<Bytes>(Bytes(v.begin(), v.end()));
}

Result<std::optional<Store::Location>> Store::FindEntry(const EntryId& id) const {
  std::string v;
  rocksdb::Status s = impl_->Get(kIds, std::string(AsChars(id.View())), &v);
  if (s.IsNotFound()) return std::optional<Location>();
  KEIRETSU_RETURN_IF_ERROR(FromRocks(s, "read id index"));
  Location loc;
  if (!codec::ParseFeedKey(v, &loc.author, &loc.seq)) return Corruption("bad id index value");
  return std::optional<Location>(loc);
}

Result<std::optional<RequestRecord>> Store::GetRequest(std::string_view request_id) const {
  std::string v;
  rocksdb::Status s = impl_->Get(kRequests, std::string(request_id), &v);
  if (s.IsNotFound()) return std::optional<RequestRecord>();
  KEIRETSU_RETURN_IF_ERROR(FromRocks(s, "read request id"));
  RequestRecord r;
  if (!codec::DecodeRequestRecord(v, &r)) return Corruption("bad request id record");
  return std::optional<RequestRecord>(r);
}

Result<std::vector<Bytes>> Store::ReadFeed(const PublicKey& author, uint64_t from_seq,
                                           size_t limit) const {
  std::vector<Bytes> out;
  if (limit == 0) return out;
  KEIRETSU_RETURN_IF_ERROR(impl_->Scan(
      kEntries, codec::AuthorPrefix(author),
      [&](std::string_view, std::string_view v) {
        out.emplace_back(v.begin(), v.end());
        return out.size() < limit;
      },
      codec::FeedKey(author, from_seq)));
  return out;
}

Result<Amount128> Store::GetBalance(const PublicKey& firm, const PublicKey& counterparty,
                                    const std::string& unit) const {
  std::string v;
  rocksdb::Status s = impl_->Get(kBalances, codec::BalanceKey(firm, counterparty, unit), &v);
  if (s.IsNotFound()) return Amount128{0};
  KEIRETSU_RETURN_IF_ERROR(FromRocks(s, "read balance"));
  Amount128 a;
  if (!codec::DecodeAmount(v, &a)) return Corruption("bad balance value");
  return a;
}

namespace {
Status CollectBalances(const Store::Impl& impl, std::string_view prefix,
                       std::vector<BalanceRow>* out) {
  bool bad = false;
  KEIRETSU_RETURN_IF_ERROR(
      impl.Scan(kBalances, prefix, [&](std::string_view k, std::string_view v) {
        BalanceRow row;
        if (!codec::ParseBalanceKey(k, &row.firm, &row.counterparty, &row.unit) ||
            !codec::DecodeAmount(v, &row.net)) {
          bad = true;
          return false;
        }
        if (row.net != 0) out->push_back(std::move(row));
        return true;
      }));
  return bad ? Corruption("bad balance record") : Status::Ok();
}
}  // namespace

Result<std::vector<BalanceRow>> Store::ListBalances(const PublicKey& firm) const {
  std::vector<BalanceRow> out;
  KEIRETSU_RETURN_IF_ERROR(CollectBalances(*impl_, codec::AuthorPrefix(firm), &out));
  return out;
}

Result<std::vector<BalanceRow>> Store::ListAllBalances() const {
  std::vector<BalanceRow> out;
  KEIRETSU_RETURN_IF_ERROR(CollectBalances(*impl_, "", &out));
  return out;
}

Result<std::vector<Bytes>> Store::PendingAt(const PublicKey& author, uint64_t seq) const {
  std::vector<Bytes> out;
  KEIRETSU_RETURN_IF_ERROR(
      impl_->Scan(kPending, codec::FeedKey(author, seq), [&](std::string_view, std::string_view v) {
        out.emplace_back(v.begin(), v.end());
        return true;
      }));
  return out;
}

Result<std::vector<Store::PendingKey>> Store::ListPending() const {
  std::vector<PendingKey> out;
  KEIRETSU_RETURN_IF_ERROR(impl_->Scan(kPending, "", [&](std::string_view k, std::string_view) {
    PendingKey p;
    if (codec::ParsePendingKey(k, &p.author, &p.seq, &p.id)) out.push_back(p);
    return true;
  }));
  return out;
}

Result<std::vector<Store::PendingKey>> Store::ListPendingFor(const PublicKey& author,
                                                             uint64_t from_seq) const {
  std::vector<PendingKey> out;
  KEIRETSU_RETURN_IF_ERROR(impl_->Scan(
      kPending, codec::AuthorPrefix(author),
      [&](std::string_view k, std::string_view) {
        PendingKey p;
        if (codec::ParsePendingKey(k, &p.author, &p.seq, &p.id)) out.push_back(p);
        return true;
      },
      codec::FeedKey(author, from_seq)));
  return out;
}

Result<std::vector<Evidence>> Store::ListEvidence() const {
  std::vector<Evidence> out;
  bool bad = false;
  KEIRETSU_RETURN_IF_ERROR(impl_->Scan(kEvidence, "", [&](std::string_view k, std::string_view v) {
    Evidence e;
    if (!codec::DecodeEvidence(k, v, &e)) {
      bad = true;
      return false;
    }
    out.push_back(std::move(e));
    return true;
  }));
  if (bad) return Corruption("bad evidence record");
  return out;
}

Result<std::vector<Store::ClaimRef>> Store::ListOpenClaims(const PublicKey& debtor) const {
  std::vector<ClaimRef> out;
  KEIRETSU_RETURN_IF_ERROR(impl_->Scan(
      kClaims, codec::AuthorPrefix(debtor), [&](std::string_view k, std::string_view v) {
        ClaimRef c;
        if (k.size() == 64 && codec::ParseFeedKey(v, &c.creditor, &c.seq)) {
          std::memcpy(c.claim.bytes.data(), k.data() + 32, 32);
          out.push_back(c);
        }
        return true;
      }));
  // Drop the answered ones.
  std::vector<ClaimRef> open;
  for (const ClaimRef& c : out) {
    KEIRETSU_ASSIGN_OR_RETURN(auto answer, FindAnswer(debtor, c.claim));
    if (!answer) open.push_back(c);
  }
  return open;
}

Result<std::optional<EntryId>> Store::FindAnswer(const PublicKey& debtor,
                                                 const EntryId& claim) const {
  std::optional<EntryId> found;
  KEIRETSU_RETURN_IF_ERROR(impl_->Scan(kAnswers, codec::ClaimKey(debtor, claim),
                                       [&](std::string_view k, std::string_view) {
                                         if (k.size() == 96) {
                                           found.emplace();
                                           std::memcpy(found->bytes.data(), k.data() + 64, 32);
                                         }
                                         return false;  // the first (lowest id) is enough
                                       }));
  return found;
}

Result<std::vector<std::pair<uint64_t, EntryId>>> Store::ReadLog(uint64_t after,
                                                                 size_t limit) const {
  std::vector<std::pair<uint64_t, EntryId>> out;
  if (limit == 0) return out;
  KEIRETSU_RETURN_IF_ERROR(impl_->Scan(
      kLog, "",
      [&](std::string_view k, std::string_view v) {
        uint64_t cursor = codec::ParseCursorKey(k);
        if (cursor <= after) return true;
        EntryId id;
        if (v.size() == 32) std::memcpy(id.bytes.data(), v.data(), 32);
        out.emplace_back(cursor, id);
        return out.size() < limit;
      },
      codec::CursorKey(after + 1)));
  return out;
}

uint64_t Store::LastLogCursor() const {
  return impl_->WithDb(
      [](rocksdb::DB& db, const std::vector<rocksdb::ColumnFamilyHandle*>& cfs) {
        std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions(), cfs[kLog]));
        it->SeekToLast();
        return it->Valid() ? codec::ParseCursorKey(it->key().ToStringView()) : uint64_t{0};
      },
      uint64_t{0});
}

Status Store::CheckConsistency() const {
  for (const auto& feed : LoadFeedStates()) {
    const PublicKey& author = feed.first;
    const FeedState& st = feed.second;
    auto fail = [&](const std::string& what) {
      return Corruption("feed " + author.Short() + ": " + what);
    };
    if (st.head_seq > 0) {
      KEIRETSU_ASSIGN_OR_RETURN(auto head, GetEntry(author, st.head_seq));
      if (!head) return fail("head entry " + std::to_string(st.head_seq) + " is missing");
    }
    KEIRETSU_ASSIGN_OR_RETURN(auto next, GetEntry(author, st.head_seq + 1));
    if (next)
      return fail("an entry beyond the head (" + std::to_string(st.head_seq + 1) + ") is stored");
    for (auto [seq, id] :
         {std::pair{st.head_seq, st.head_id}, std::pair{st.effective_seq(), st.effective_id}}) {
      if (seq == 0) {
        if (!id.IsZero()) return fail("empty feed with a non-zero id");
        continue;
      }
      KEIRETSU_ASSIGN_OR_RETURN(auto loc, FindEntry(id));
      if (!loc || loc->author != author || loc->seq != seq)
        return fail("id index does not place " + id.Short() + " at seq " + std::to_string(seq));
    }
  }
  return Status::Ok();
}

}  // namespace keiretsu::storage
