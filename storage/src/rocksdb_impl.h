// Private: the Store's RocksDB state, shared by rocksdb_store.cc (batches,
// commits, queries) and rocksdb_open.cc (opening, the free-space reserve,
// recovery from storage errors).
//
// Locking: `db_mu` guards the database handle and column families. Every
// read and commit holds it shared (through Get, Scan, Write, NewIterator
// below); only a reopen (read-only -> read-write once space is back) holds it
// exclusively. `state_mu` guards the writability state; it is never held
// while taking db_mu.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/listener.h>

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "keiretsu/storage/store.h"

namespace keiretsu::storage {

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
  kRequests,
  kCfCount
};
// "default" is RocksDB's own column family; we keep metadata in it.
inline constexpr std::array<const char*, kCfCount> kCfNames = {
    "default",  "entries", "ids",     "heads", "balances", "pending",
    "evidence", "claims",  "answers", "log",   "requests"};

// rocksdb::Status -> Status: the only place RocksDB errors are translated.
// A full disk becomes kResourceExhausted.
Status FromRocks(const rocksdb::Status& s, std::string_view what);

class BackgroundErrors;

struct Store::Impl {
  StoreOptions options;
  DiskSpaceProbe probe;  // options.probe or StatFilesystem
  int lock_fd = -1;      // flock(2) on <path>/keiretsu.lock, held for the store's life
  // A commit (or a RocksDB background job) failed: RocksDB refuses writes
  // from then on (a failed WAL write or sync is fatal to the open instance)
  // until Recover reopens it.
  std::atomic<bool> broken{false};

  mutable std::shared_mutex db_mu;
  std::unique_ptr<rocksdb::DB> db;                // GUARDED_BY(db_mu)
  std::vector<rocksdb::ColumnFamilyHandle*> cfs;  // GUARDED_BY(db_mu)
  bool read_only = false;                         // GUARDED_BY(db_mu)
  std::shared_ptr<BackgroundErrors> bg_errors;    // set by RocksDB's threads

  // What a reopen needs: the options the store was opened with.
  rocksdb::DBOptions db_options;
  std::vector<rocksdb::ColumnFamilyDescriptor> cf_descriptors;

  mutable std::mutex state_mu;
  Status writable;  // GUARDED_BY(state_mu): OK, or why commits are refused
  // GUARDED_BY(state_mu): the refusal lasts until Store::Refresh (a
  // read-only open, a storage error); false: a commit that finds enough
  // free space again clears it (the reserve alone).
  bool needs_refresh = false;

  ~Impl();

  // What every use of db meets when a Recover failed and left it closed.
  static rocksdb::Status ClosedError() {
    return rocksdb::Status::IOError(
        "the database is closed: recovery after a failed commit failed");
  }

  // Reads and writes, each under a shared lock on db_mu.
  rocksdb::Status Get(Cf c, const std::string& key, std::string* value) const;
  rocksdb::Status Write(const rocksdb::WriteOptions& wo, rocksdb::WriteBatch* wb);
  // Visits every key/value of `c` starting with `prefix`; stop by returning false.
  template <typename F>
  Status Scan(Cf c, std::string_view prefix, F&& visit, std::string_view start = {}) const {
    std::shared_lock lock(db_mu);
    if (!db) return FromRocks(ClosedError(), "scan");
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cfs[c]));
    for (it->Seek(start.empty() ? prefix : start); it->Valid(); it->Next()) {
      if (!it->key().starts_with(rocksdb::Slice(prefix.data(), prefix.size()))) break;
      if (!visit(it->key().ToStringView(), it->value().ToStringView())) break;
    }
    return FromRocks(it->status(), "scan");
  }
  // Runs `f(db, cfs)` under a shared lock; `closed` when there is no db.
  template <typename F, typename R>
  R WithDb(F&& f, R closed) const {
    std::shared_lock lock(db_mu);
    if (!db) return closed;
    return f(*db, cfs);
  }

  // Before a commit: OK, or why not (measures free space when a reserve is
  // set; a refusal is remembered as the state).
  Status CheckBeforeWrite();
  // After a failed write: remembers the failure as the state; returns it.
  Status OnWriteFailure(const rocksdb::Status& s);
  void SetState(Status s, bool refresh_needed);
  Status State() const;
};

}  // namespace keiretsu::storage
