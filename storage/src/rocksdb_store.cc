// Store on RocksDB: the adapter. rocksdb::Status becomes our Status here and
// nowhere else; no RocksDB type leaves this file.
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/options_util.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <atomic>
#include <cstring>
#include <shared_mutex>

#include "keiretsu/storage/store.h"
#include "storage/src/codec.h"
#include "storage/src/fault_fs.h"

namespace keiretsu::storage {
namespace {

enum Cf : size_t {
  kMeta = 0,
  kEntries,
  kIds,
  kHeads,
  kBalances,
  kPending,
  kEvidence,
  kClaims,
  kAnswers,
  kLog,
  kCfCount
};
// "default" is RocksDB's own column family; we keep metadata in it.
constexpr std::array<const char*, kCfCount> kCfNames = {"default",  "entries", "ids",      "heads",
                                                        "balances", "pending", "evidence", "claims",
                                                        "answers",  "log"};
constexpr std::string_view kSchemaVersion = "1";

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string m = std::string(what) + ": " + s.ToString();
  if (s.IsNotFound()) return NotFound(m);
  if (s.IsCorruption()) return Corruption(m);
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos)
    return FailedPrecondition(std::string(what) +
                              ": the data directory is locked by another process (is another "
                              "keiretsud running on it?)");
  return IOError(m);
}

// Balances are sums: merge operands are 16-byte two's-complement deltas and
// the merge adds them, so applying an entry never needs a read.
class Add128 : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice&, const rocksdb::Slice* existing, const rocksdb::Slice& value,
             std::string* new_value, rocksdb::Logger*) const override {
    Amount128 a = 0, b = 0;
    if (existing != nullptr && !codec::DecodeAmount(existing->ToStringView(), &a)) return false;
    if (!codec::DecodeAmount(value.ToStringView(), &b)) return false;
    *new_value = codec::EncodeAmount(a + b);
    return true;
  }
  const char* Name() const override { return "keiretsu.Add128"; }
};

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
  void Put(Cf cf, std::string k, std::string v) {
    ops.push_back({cf, false, false, std::move(k), std::move(v)});
  }
};

Batch::Batch() : rep_(std::make_unique<Rep>()) {}
Batch::~Batch() = default;
Batch::Batch(Batch&&) noexcept = default;
Batch& Batch::operator=(Batch&&) noexcept = default;
size_t Batch::size() const {
  return rep_->ops.size();
}

void Batch::PutEntry(const PublicKey& author, uint64_t seq, const EntryId& id, ByteView record) {
  rep_->Put(kEntries, codec::FeedKey(author, seq), std::string(AsChars(record)));
  rep_->Put(kIds, std::string(AsChars(id.View())), codec::EncodeLocation(author, seq));
}
void Batch::SetFeedState(const PublicKey& author, const FeedState& state) {
  rep_->Put(kHeads, codec::AuthorPrefix(author), codec::EncodeFeedState(state));
}
void Batch::AddDebt(const protocol::DebtChange& c) {
  rep_->ops.push_back({kBalances, false, true, codec::BalanceKey(c.creditor, c.debtor, c.unit),
                       codec::EncodeAmount(c.delta)});
  rep_->ops.push_back({kBalances, false, true, codec::BalanceKey(c.debtor, c.creditor, c.unit),
                       codec::EncodeAmount(-c.delta)});
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

struct Store::Impl {
  std::shared_ptr<FaultInjector> faults;  // tests only; outlives db
  StoreOptions options;
  // Shared by every use of db; exclusive while Recover replaces it.
  mutable std::shared_mutex mu;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs;
  std::string path;
  // A commit failed: RocksDB refuses writes from then on (a failed WAL
  // write or sync is fatal to the open instance) until Recover reopens it.
  std::atomic<bool> broken{false};

  ~Impl() { CloseDb(); }
  void CloseDb() {
    if (!db) return;
    for (auto* h : cfs) db->DestroyColumnFamilyHandle(h);
    cfs.clear();
    (void)db->Close();  // after a failure it reports the failure again
    db.reset();
  }
  Status OpenDb();
  rocksdb::ColumnFamilyHandle* cf(Cf c) const { return cfs[c]; }
  // What every use of db meets when a Recover failed and left it closed.
  static rocksdb::Status ClosedError() {
    return rocksdb::Status::IOError(
        "the database is closed: recovery after a failed commit failed");
  }

  rocksdb::Status Get(Cf c, std::string_view key, std::string* value) const {
    std::shared_lock lock(mu);
    if (!db) return ClosedError();
    return db->Get(rocksdb::ReadOptions(), cf(c), rocksdb::Slice(key.data(), key.size()), value);
  }

  // Visits every key/value of `c` starting with `prefix`; stop by returning false.
  template <typename F>
  Status Scan(Cf c, std::string_view prefix, F&& visit, std::string_view start = {}) const {
    std::shared_lock lock(mu);
    if (!db) return FromRocks(ClosedError(), "scan");
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cf(c)));
    for (it->Seek(start.empty() ? prefix : start); it->Valid(); it->Next()) {
      if (!it->key().starts_with(rocksdb::Slice(prefix.data(), prefix.size()))) break;
      if (!visit(it->key().ToStringView(), it->value().ToStringView())) break;
    }
    return FromRocks(it->status(), "scan");
  }
};

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

// Sized for a node holding millions of entries in well under 300 MiB
// (bench/: footprint); RocksDB flushes the largest memtable when the
// budget is reached.
constexpr size_t kMemtableBudgetBytes = 64 << 20;
constexpr size_t kBlockCacheBytes = 32 << 20;

Result<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->faults = options.faults_for_test;
  impl->options = options;
  impl->path = options.path;
  KEIRETSU_RETURN_IF_ERROR(impl->OpenDb());
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Status Store::Impl::OpenDb() {
  rocksdb::DBOptions db_opts;
  db_opts.create_if_missing = options.create_if_missing;
  db_opts.create_missing_column_families = options.create_if_missing;
  db_opts.max_background_jobs = 2;
  db_opts.keep_log_file_num = 5;
  db_opts.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  // Open table files on the opening thread: the default (16) starts 16
  // threads per column family at every open, 160 here, which costs more
  // than opening a node's few tables (power-cut tests open ~10,000 times).
  db_opts.max_file_opening_threads = 1;
  if (options.faults_for_test) db_opts.env = FaultInjectorAccess::Env(*options.faults_for_test);
  // Memory: one budget for every column family's memtables (else each of
  // the ten may grow to 64 MiB, and a node catching up peaks at several
  // hundred MiB), and one block cache shared by all of them.
  db_opts.db_write_buffer_size = kMemtableBudgetBytes;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(kBlockCacheBytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  std::shared_ptr<rocksdb::TableFactory> table_factory(rocksdb::NewBlockBasedTableFactory(table));
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (const char* name : kCfNames) {
    rocksdb::ColumnFamilyOptions cf_opts;
    cf_opts.compression = rocksdb::kZSTD;
    cf_opts.table_factory = table_factory;
    cf_opts.write_buffer_size = kMemtableBudgetBytes / 4;
    if (std::string_view(name) == "balances") {
      cf_opts.merge_operator = std::make_shared<Add128>();
      // A busy pair collects one merge operand per entry in the memtable,
      // and every read of it would add them all up. Past this many, the
      // write folds them into one value instead, so a balance read costs
      // a bounded amount however hot the pair is (bench: balance queries).
      cf_opts.max_successive_merges = 16;
    }
    descs.emplace_back(name, cf_opts);
  }
  rocksdb::DB* raw = nullptr;
  cfs.clear();
  rocksdb::Status s = rocksdb::DB::Open(db_opts, options.path, descs, &cfs, &raw);
  if (!s.ok()) {
    if (s.IsInvalidArgument() && s.ToString().find("does not exist") != std::string::npos)
      return NotFound("no keiretsu data directory at " + options.path);
    return FromRocks(s, "cannot open data directory " + options.path);
  }
  db.reset(raw);

  // A store belongs to one network: refuse to mix.
  std::string stored;
  s = raw->Get(rocksdb::ReadOptions(), cf(kMeta), "network_id", &stored);
  if (s.IsNotFound()) {
    rocksdb::WriteBatch wb;
    wb.Put(cf(kMeta), "network_id", std::string(AsChars(options.network.View())));
    wb.Put(cf(kMeta), "schema_version", std::string(kSchemaVersion));
    rocksdb::WriteOptions wo;
    wo.sync = true;
    KEIRETSU_RETURN_IF_ERROR(FromRocks(raw->Write(wo, &wb), "initialise data directory"));
  } else if (!s.ok()) {
    return FromRocks(s, "read data directory metadata");
  } else if (stored != AsChars(options.network.View())) {
    return FailedPrecondition("data directory " + options.path + " belongs to network " +
                              ToHex(AsBytes(stored)).substr(0, 8) + ", not " +
                              options.network.Short());
  }
  std::string version;
  s = raw->Get(rocksdb::ReadOptions(), cf(kMeta), "schema_version", &version);
  if (!s.ok() || version != kSchemaVersion)
    return FailedPrecondition("data directory " + options.path +
                              " has an unknown schema version '" + version + "'");
  return Status::Ok();
}

Status Store::Commit(Batch& batch, bool sync) {
  std::shared_lock lock(impl_->mu);
  if (impl_->broken || !impl_->db)
    return IOError("the store refuses writes after a failed commit until it recovers");
  rocksdb::WriteBatch wb;
  for (const Op& op : batch.rep_->ops) {
    auto* h = impl_->cf(op.cf);
    rocksdb::Status s = op.is_delete  ? wb.Delete(h, op.key)
                        : op.is_merge ? wb.Merge(h, op.key, op.value)
                                      : wb.Put(h, op.key, op.value);
    KEIRETSU_RETURN_IF_ERROR(FromRocks(s, "build write batch"));
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  Status s = FromRocks(impl_->db->Write(wo, &wb), "commit");
  if (!s.ok()) impl_->broken = true;
  return s;
}

bool Store::NeedsRecovery() const {
  return impl_->broken;
}

Status Store::Recover() {
  std::unique_lock lock(impl_->mu);
  impl_->CloseDb();
  impl_->options.create_if_missing = false;
  KEIRETSU_RETURN_IF_ERROR(impl_->OpenDb().WithContext("recover after a failed commit"));
  impl_->broken = false;
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
  rocksdb::Status s = impl_->Get(kIds, AsChars(id.View()), &v);
  if (s.IsNotFound()) return std::optional<Location>();
  KEIRETSU_RETURN_IF_ERROR(FromRocks(s, "read id index"));
  Location loc;
  if (!codec::ParseFeedKey(v, &loc.author, &loc.seq)) return Corruption("bad id index value");
  return std::optional<Location>(loc);
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
  std::shared_lock lock(impl_->mu);
  if (!impl_->db) return 0;
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cf(kLog)));
  it->SeekToLast();
  return it->Valid() ? codec::ParseCursorKey(it->key().ToStringView()) : 0;
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

Status Store::Compact() {
  std::shared_lock lock(impl_->mu);
  if (!impl_->db) return FromRocks(Impl::ClosedError(), "compact");
  for (auto* h : impl_->cfs) {
    KEIRETSU_RETURN_IF_ERROR(FromRocks(
        impl_->db->CompactRange(rocksdb::CompactRangeOptions(), h, nullptr, nullptr), "compact"));
  }
  return Status::Ok();
}

}  // namespace keiretsu::storage
