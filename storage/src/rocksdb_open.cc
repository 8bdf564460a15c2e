// Store on RocksDB: opening (read-write, or read-only on a disk below the
// reserve), the data directory lock, the free-space reserve, and recovery
// from storage errors (Store::Refresh, Store::Recover).
#include <fcntl.h>
#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/metadata.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "storage/src/codec.h"
#include "storage/src/fault_fs.h"
#include "storage/src/rocksdb_impl.h"

namespace keiretsu::storage {

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string m = std::string(what) + ": " + s.ToString();
  if (s.IsNotFound()) return NotFound(m);
  if (s.IsCorruption()) return Corruption(m);
  if (s.IsNoSpace()) return ResourceExhausted(m);
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos)
    return FailedPrecondition(std::string(what) +
                              ": the data directory is locked by another process (is another "
                              "keiretsud running on it?)");
  return IOError(m);
}

// RocksDB reports errors of its own threads (flush, compaction, the log)
// here; the store remembers them so GetStatus can say why writes stop, and
// Recover reopens the database once the cause is gone. The database stays
// stopped meanwhile (RocksDB's choice for a hard error): nothing half-
// written is built on.
class BackgroundErrors : public rocksdb::EventListener {
 public:
  explicit BackgroundErrors(Store::Impl* impl) : impl_(impl) {}
  const char* Name() const override { return "keiretsu.BackgroundErrors"; }
  void OnBackgroundError(rocksdb::BackgroundErrorReason reason, rocksdb::Status* error) override {
    if (error == nullptr || error->ok()) return;
    // A soft error (a compaction that failed and will be retried) leaves
    // writes going; a full disk or a hard error stops them until Recover.
    if (!error->IsNoSpace() && error->severity() < rocksdb::Status::Severity::kHardError) return;
    static constexpr const char* kWhat[] = {"flush",
                                            "compaction",
                                            "write",
                                            "memtable",
                                            "manifest write",
                                            "flush (no WAL)",
                                            "manifest write (no WAL)"};
    const auto i = static_cast<size_t>(reason);
    std::string what = std::string("storage error in the background (") +
                       (i < std::size(kWhat) ? kWhat[i] : "unknown") + ")";
    impl_->broken = true;  // writes stop until Recover reopens the database
    impl_->SetState(FromRocks(*error, what), /*refresh_needed=*/true);
  }

 private:
  Store::Impl* impl_;  // outlives the database that calls this
};

namespace {

constexpr std::string_view kSchemaVersion = "1";
constexpr const char* kLockFile = "keiretsu.lock";
// Sized for a node holding millions of entries in well under 300 MiB
// (bench/: footprint); RocksDB flushes the largest memtable when the
// budget is reached.
constexpr size_t kMemtableBudgetBytes = 64 << 20;
constexpr size_t kBlockCacheBytes = 32 << 20;
// Each open flushes what the previous run left in the write-ahead log: one
// new small table file per column family written. A daemon restarted often
// (systemd, upgrades, a crash loop) never runs long enough for RocksDB to
// merge them (117 files for 150 entries after 101 starts), so at open a
// small column family with this many files is compacted into one. Large
// ones are left to RocksDB's own compactions.
constexpr size_t kFilesCompactedAtOpen = 4;
constexpr uint64_t kSmallColumnFamilyBytes = 64 << 20;

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

void SetRocksOptions(const StoreOptions& options, Store::Impl& impl) {
  rocksdb::DBOptions& db_opts = impl.db_options;
  db_opts.create_if_missing = options.create_if_missing;
  // A column family added by a later version (requests) is created in an
  // existing data directory, whatever create_if_missing says.
  db_opts.create_missing_column_families = true;
  db_opts.max_background_jobs = 2;
  db_opts.keep_log_file_num = 5;
  db_opts.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  // Open table files on the opening thread: the default (16) starts 16
  // threads per column family at every open, 160 here, which costs more
  // than opening a node's few tables (power-cut tests open ~10,000 times).
  db_opts.max_file_opening_threads = 1;
  if (options.faults_for_test) db_opts.env = FaultInjectorAccess::Env(*options.faults_for_test);
  impl.bg_errors = std::make_shared<BackgroundErrors>(&impl);
  db_opts.listeners.push_back(impl.bg_errors);
  // Memory: one budget for every column family's memtables (else each of
  // the ten may grow to 64 MiB, and a node catching up peaks at several
  // hundred MiB), and one block cache shared by all of them.
  db_opts.db_write_buffer_size = kMemtableBudgetBytes;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(kBlockCacheBytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  std::shared_ptr<rocksdb::TableFactory> table_factory(rocksdb::NewBlockBasedTableFactory(table));
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
    impl.cf_descriptors.emplace_back(name, cf_opts);
  }
}

// One keiretsud per data directory, also while the store is read-only
// (RocksDB takes its own lock only for read-write opens).
Status LockDirectory(const StoreOptions& options, Store::Impl& impl) {
  std::error_code ec;
  if (!std::filesystem::is_directory(options.path, ec)) {
    if (!options.create_if_missing)
      return NotFound("no keiretsu data directory at " + options.path);
    std::filesystem::create_directories(options.path, ec);
    if (ec) return IOError("cannot create data directory " + options.path + ": " + ec.message());
  }
  const std::string file = options.path + "/" + kLockFile;
  impl.lock_fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (impl.lock_fd < 0) return IOError("cannot open " + file + ": " + std::strerror(errno));
  if (::flock(impl.lock_fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK)
      return FailedPrecondition("data directory " + options.path +
                                ": the data directory is locked by another process (is another "
                                "keiretsud running on it?)");
    return IOError("cannot lock " + file + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

// A new data directory: the database is created with the default column
// family alone, and the others in one CreateColumnFamilies call, which
// writes the OPTIONS file once. (Created by DB::Open, each missing column
// family wrote, re-read and verified the whole OPTIONS file on its own: 11
// writes per new store instead of 2, most of the cost of opening it.)
// Durability is the same: each creation is in the MANIFEST before the call
// returns. Interrupted half-way, the next open finds CURRENT and creates
// the missing ones (create_missing_column_families).
rocksdb::Status CreateRocks(Store::Impl& impl, std::unique_ptr<rocksdb::DB>* db,
                            std::vector<rocksdb::ColumnFamilyHandle*>* cfs) {
  rocksdb::DB* raw = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> first;
  rocksdb::Status s =
      rocksdb::DB::Open(impl.db_options, impl.options.path, {impl.cf_descriptors[0]}, &first, &raw);
  db->reset(raw);
  if (!s.ok()) return s;
  std::vector<rocksdb::ColumnFamilyHandle*> rest;
  s = raw->CreateColumnFamilies(std::vector<rocksdb::ColumnFamilyDescriptor>(
                                    impl.cf_descriptors.begin() + 1, impl.cf_descriptors.end()),
                                &rest);
  cfs->assign(first.begin(), first.end());
  cfs->insert(cfs->end(), rest.begin(), rest.end());
  return s;
}

rocksdb::Status OpenRocks(Store::Impl& impl, bool read_only, std::unique_ptr<rocksdb::DB>* db,
                          std::vector<rocksdb::ColumnFamilyHandle*>* cfs) {
  if (!read_only && impl.db_options.create_if_missing &&
      impl.db_options.env->FileExists(impl.options.path + "/CURRENT").IsNotFound())
    return CreateRocks(impl, db, cfs);
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = read_only ? rocksdb::DB::OpenForReadOnly(impl.db_options, impl.options.path,
                                                               impl.cf_descriptors, cfs, &raw)
                                : rocksdb::DB::Open(impl.db_options, impl.options.path,
                                                    impl.cf_descriptors, cfs, &raw);
  db->reset(raw);
  return s;
}

void CloseRocks(std::unique_ptr<rocksdb::DB>& db, std::vector<rocksdb::ColumnFamilyHandle*>& cfs) {
  if (!db) return;
  for (auto* h : cfs) db->DestroyColumnFamilyHandle(h);
  cfs.clear();
  db->Close().PermitUncheckedError();
  db.reset();
}

// A store belongs to one network: refuse to mix. A new store records it.
Status CheckNetwork(Store::Impl& impl) {
  const StoreOptions& o = impl.options;
  std::string stored;
  rocksdb::Status s = impl.Get(kMeta, "network_id", &stored);
  if (s.IsNotFound() && !impl.read_only) {
    rocksdb::WriteBatch wb;
    wb.Put(impl.cfs[kMeta], "network_id", std::string(AsChars(o.network.View())));
    wb.Put(impl.cfs[kMeta], "schema_version", std::string(kSchemaVersion));
    rocksdb::WriteOptions wo;
    wo.sync = true;
    return FromRocks(impl.Write(wo, &wb), "initialise data directory");
  }
  if (s.IsNotFound()) return FailedPrecondition("data directory " + o.path + " has no network id");
  if (!s.ok()) return FromRocks(s, "read data directory metadata");
  if (stored != AsChars(o.network.View()))
    return FailedPrecondition("data directory " + o.path + " belongs to network " +
                              ToHex(AsBytes(stored)).substr(0, 8) + ", not " + o.network.Short());
  std::string version;
  s = impl.Get(kMeta, "schema_version", &version);
  if (!s.ok() || version != kSchemaVersion)
    return FailedPrecondition("data directory " + o.path + " has an unknown schema version '" +
                              version + "'");
  return Status::Ok();
}

// Best effort: a failure leaves the files to RocksDB's own compactions.
void CompactSmallColumnFamilies(Store::Impl& impl) {
  for (auto* h : impl.cfs) {
    rocksdb::ColumnFamilyMetaData meta;
    impl.db->GetColumnFamilyMetaData(h, &meta);
    if (meta.file_count < kFilesCompactedAtOpen || meta.size > kSmallColumnFamilyBytes) continue;
    rocksdb::CompactRangeOptions o;
    // Files of increasing keys (seqs, cursors) are only moved down, never
    // merged, unless the bottom level is rewritten too.
    o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    impl.db->CompactRange(o, h, nullptr, nullptr).PermitUncheckedError();
  }
}

}  // namespace

Store::Impl::~Impl() {
  CloseRocks(db, cfs);
  if (lock_fd >= 0) ::close(lock_fd);  // releases the flock
}

rocksdb::Status Store::Impl::Get(Cf c, const std::string& key, std::string* value) const {
  std::shared_lock lock(db_mu);
  if (!db) return ClosedError();
  return db->Get(rocksdb::ReadOptions(), cfs[c], key, value);
}

rocksdb::Status Store::Impl::Write(const rocksdb::WriteOptions& wo, rocksdb::WriteBatch* wb) {
  std::shared_lock lock(db_mu);
  if (!db) return ClosedError();
  return db->Write(wo, wb);
}

void Store::Impl::SetState(Status s, bool refresh_needed) {
  std::lock_guard lock(state_mu);
  writable = std::move(s);
  needs_refresh = !writable.ok() && refresh_needed;
}

Status Store::Impl::State() const {
  std::lock_guard lock(state_mu);
  return writable;
}

Status Store::Impl::CheckBeforeWrite() {
  {
    std::lock_guard lock(state_mu);
    if (needs_refresh) return writable;
  }
  if (options.reserve_bytes == 0) return Status::Ok();
  auto space = probe(options.path);
  // A failed measurement does not stop writes: RocksDB still reports a
  // full disk itself.
  if (!space.ok()) return Status::Ok();
  Status s = CheckReserve(options.path, *space, options.reserve_bytes);
  std::lock_guard lock(state_mu);
  if (!needs_refresh) writable = s;
  return needs_refresh ? writable : s;
}

Status Store::Impl::OnWriteFailure(const rocksdb::Status& s) {
  Status st = s.IsNoSpace()
                  ? ResourceExhausted("disk full: the filesystem holding " + options.path +
                                      " has no space left (" + s.ToString() +
                                      "); writes are refused until space is freed "
                                      "(reads go on)")
                  : FromRocks(s, "commit");
  broken = true;
  SetState(st, /*refresh_needed=*/true);
  return st;
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->probe = options.probe ? options.probe : DiskSpaceProbe(StatFilesystem);
  SetRocksOptions(options, *impl);
  // A fault injector's file system may not be the operating system's: it
  // has RocksDB's own lock, and no reserve.
  if (!options.faults_for_test) KEIRETSU_RETURN_IF_ERROR(LockDirectory(options, *impl));

  // Below the reserve, an existing store opens read-only: a read-write open
  // writes (a new log, a manifest, a flush of the old log) and could meet a
  // full disk half-way. Reads are served; Refresh reopens it once space is
  // back.
  std::error_code ec;
  const bool existing =
      !options.faults_for_test && std::filesystem::exists(options.path + "/CURRENT", ec);
  Status low;
  if (options.reserve_bytes > 0) {
    auto space = impl->probe(options.path);
    if (space.ok()) low = CheckReserve(options.path, *space, options.reserve_bytes);
  }
  rocksdb::Status s;
  if (!existing || low.ok()) s = OpenRocks(*impl, false, &impl->db, &impl->cfs);
  if (existing && (!low.ok() || s.IsNoSpace())) {
    if (low.ok()) low = FromRocks(s, "open");  // the disk filled up under the open
    CloseRocks(impl->db, impl->cfs);
    impl->read_only = true;
    s = OpenRocks(*impl, true, &impl->db, &impl->cfs);
    impl->SetState(ResourceExhausted("opened read-only: " + low.message()), true);
  }
  if (!s.ok()) {
    CloseRocks(impl->db, impl->cfs);
    if (s.IsInvalidArgument() && s.ToString().find("does not exist") != std::string::npos)
      return NotFound("no keiretsu data directory at " + options.path);
    return FromRocks(s, "cannot open data directory " + options.path);
  }
  KEIRETSU_RETURN_IF_ERROR(CheckNetwork(*impl));
  if (!impl->read_only) CompactSmallColumnFamilies(*impl);
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Status Store::Writable() const {
  return impl_->State();
}

namespace {
// Below the reserve: the state says so, and nothing is touched.
Status MeasureReserve(Store::Impl& m) {
  if (m.options.reserve_bytes == 0) return Status::Ok();
  auto space = m.probe(m.options.path);
  if (!space.ok()) return Status::Ok();
  Status low = CheckReserve(m.options.path, *space, m.options.reserve_bytes);
  if (!low.ok()) {
    // Low space is what the operator must act on, whatever failed before;
    // a read-only or broken store still needs Refresh or Recover after.
    std::lock_guard lock(m.state_mu);
    m.writable = low;
  }
  return low;
}

// Replaces the database with a read-write instance (under the exclusive
// lock). On failure a read-only instance is kept or tried, so reads go on.
Status Reopen(Store::Impl& m) {
  std::unique_lock lock(m.db_mu);
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs;
  m.db_options.create_if_missing = false;
  // A broken read-write instance is closed first: RocksDB must not see two
  // writers. A read-only one stays until the new one is open, so reads
  // always find a database (nothing reads the old one meanwhile).
  if (!m.read_only) CloseRocks(m.db, m.cfs);
  rocksdb::Status s = OpenRocks(m, false, &db, &cfs);
  if (s.ok()) {
    CloseRocks(m.db, m.cfs);
    m.db = std::move(db);
    m.cfs = std::move(cfs);
    m.read_only = false;
    return Status::Ok();
  }
  CloseRocks(db, cfs);
  Status st = FromRocks(s, "reopen for writing");
  if (!m.db && OpenRocks(m, true, &db, &cfs).ok()) {
    m.db = std::move(db);
    m.cfs = std::move(cfs);
    m.read_only = true;
  } else {
    CloseRocks(db, cfs);
  }
  return st;
}
}  // namespace

Status Store::Refresh() {
  Impl& m = *impl_;
  KEIRETSU_RETURN_IF_ERROR(MeasureReserve(m));
  if (m.broken) return m.State();  // Recover's, through the ledger
  bool read_only;
  {
    std::shared_lock lock(m.db_mu);
    read_only = m.read_only;
  }
  if (read_only) {
    Status s = Reopen(m);
    if (!s.ok()) {
      m.SetState(ResourceExhausted("still read-only: " + s.message()), true);
      return m.State();
    }
  }
  m.SetState(Status::Ok(), false);
  return Status::Ok();
}

bool Store::NeedsRecovery() const {
  return impl_->broken;
}

Status Store::Recover() {
  Impl& m = *impl_;
  KEIRETSU_RETURN_IF_ERROR(MeasureReserve(m));
  Status s = Reopen(m);
  if (!s.ok()) {
    Status st = s.WithContext("recover after a failed commit");
    m.SetState(st, true);
    return st;
  }
  m.broken = false;
  m.SetState(Status::Ok(), false);
  return Status::Ok();
}

Status Store::Compact() {
  return impl_->WithDb(
      [](rocksdb::DB& db, const std::vector<rocksdb::ColumnFamilyHandle*>& cfs) {
        for (auto* h : cfs) {
          KEIRETSU_RETURN_IF_ERROR(FromRocks(
              db.CompactRange(rocksdb::CompactRangeOptions(), h, nullptr, nullptr), "compact"));
        }
        return Status::Ok();
      },
      FromRocks(Impl::ClosedError(), "compact"));
}

}  // namespace keiretsu::storage
