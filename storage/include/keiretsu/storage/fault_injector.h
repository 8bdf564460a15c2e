// FaultInjector: storage faults on demand, under the real store. For tests.
//
// The RocksDB store normally writes through the operating system. Given a
// FaultInjector (StoreOptions::faults_for_test), it writes through a file
// system that this object controls instead, the way LevelDB tests its
// failure paths with ErrorEnv and db/fault_injection_test.cc:
//
//   - fail the Nth data write, the Nth sync, every sync, or every file
//     creation from now on (the store sees an I/O error, as from a failing
//     or full disk; the failed operation changes nothing);
//   - cut the power: every byte not yet synced (file data, and files whose
//     directory was not synced since they were created) is dropped, and
//     every later operation fails until PowerOn(). Then close the store
//     (whatever it writes while closing is refused) and open it again with
//     the same injector: it sees exactly what a machine would see after a
//     power loss at that instant.
//
// Files live in memory (Medium::kMemory: RocksDB's MemEnv; nothing touches
// the disk, and power-cut rounds cost microseconds of I/O) or on the real
// disk (Medium::kDisk: the operating system's files at the store's path).
//
// A simulator of many nodes uses the same seam for in-memory stores: one
// injector per node (Create(Medium::kMemory)), a store path per node (any
// name: in memory it is only a key), and no fault armed. A node's restart
// is Store destruction and Open with the same injector; a node's power loss
// is PowerCut() first. The files live as long as the injector.
//
// Thread-safety: every method may be called from any thread, also while the
// store uses the injector from its own threads. One injector may serve one
// open store at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace keiretsu::storage {

class FaultInjector {
 public:
  enum class Medium { kMemory, kDisk };

  // Which files an armed fault applies to.
  enum class FileKind {
    kAny,
    kWal,       // write-ahead logs (*.log): what every commit writes and syncs
    kTable,     // sorted tables (*.sst): flushes and compactions
    kManifest,  // MANIFEST-*: the file set, written at open and after flushes
  };

  static std::shared_ptr<FaultInjector> Create(Medium medium);
  ~FaultInjector();
  FaultInjector(const FaultInjector&) = delete;
  FaultInjector& operator=(const FaultInjector&) = delete;

  // --- Failures. Each failed operation returns an I/O error and changes
  // nothing. n counts from now: 1 is the next such operation.
  void FailNthWrite(uint64_t n, FileKind kind = FileKind::kAny);
  void FailNthSync(uint64_t n, FileKind kind = FileKind::kAny);
  void FailEverySync(FileKind kind = FileKind::kAny);   // until Clear()
  void FailEveryWrite(FileKind kind = FileKind::kAny);  // until Clear(): a full disk
  void FailFileCreation();                              // until Clear()
  // Disarms every failure above (not a power cut: see PowerOn).
  void Clear();
  // Failures injected so far (not counting operations refused after a cut).
  uint64_t failures_injected() const;

  // --- Power loss.
  // Cuts the power now: drops every unsynced byte and refuses every later
  // operation until PowerOn().
  void PowerCut();
  // Cuts the power at the nth mutating file operation from now (a write, a
  // sync, a creation, a rename or a deletion; 1 is the next): that
  // operation does not happen. Use mutating_ops() to see how many a
  // workload makes.
  void PowerCutAt(uint64_t n);
  // With a torn tail, a cut keeps a random part (seeded) of each
  // write-ahead log's unsynced tail instead of none of it, as a disk may:
  // recovery must then cope with a partly written last record.
  void SetTornTail(bool on, uint64_t seed);
  bool power_cut() const;
  // Restores power: operations are allowed again (armed failures are
  // cleared too). REQUIRES: the store that used the injector was closed.
  void PowerOn();
  // Mutating file operations seen so far (refused ones included).
  uint64_t mutating_ops() const;
  // Where the last cut fell: the operation and the kind of file it was on,
  // e.g. "sync wal", "write table", "create manifest"; "between
  // operations" after PowerCut(); empty before any cut.
  std::string last_cut() const;

  struct Impl;

 private:
  friend class FaultInjectorAccess;  // storage/src: the store reaches the file system
  explicit FaultInjector(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace keiretsu::storage
