// FaultInjector: a rocksdb::FileSystemWrapper that fails operations on
// demand and models what survives a power cut (after LevelDB's
// db/fault_injection_test.cc). It tracks, per file written since the last
// power-on, how many bytes were appended and how many were synced, and
// whether the directory entry that names it was synced; a power cut keeps
// only what was synced. Every mutating operation passes one gate (Admit)
// under one mutex, so a cut is atomic with respect to the store's threads.
#include "keiretsu/storage/fault_injector.h"

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <random>

#include "storage/src/fault_fs.h"

namespace keiretsu::storage {

using rocksdb::FileOptions;
using rocksdb::FSDirectory;
using rocksdb::FSWritableFile;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;
using Kind = FaultInjector::FileKind;

namespace {

// kAny never names a file: a file that is none of the kinds below (CURRENT,
// OPTIONS, a directory) matches only faults armed for kAny.
Kind KindOf(const std::string& path) {
  const std::string base = path.substr(path.find_last_of('/') + 1);
  if (base.ends_with(".log")) return Kind::kWal;
  if (base.ends_with(".sst")) return Kind::kTable;
  if (base.starts_with("MANIFEST-")) return Kind::kManifest;
  return Kind::kAny;
}

std::string DirOf(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

std::string TrimSlash(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

enum class Op { kWrite, kSync, kCreate, kRename, kDelete, kOther };

const char* OpName(Op op) {
  switch (op) {
    case Op::kWrite: return "write";
    case Op::kSync: return "sync";
    case Op::kCreate: return "create";
    case Op::kRename: return "rename";
    case Op::kDelete: return "delete";
    case Op::kOther: return "directory";
  }
  return "?";
}
const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kWal: return "wal";
    case Kind::kTable: return "table";
    case Kind::kManifest: return "manifest";
    case Kind::kAny: return "other";
  }
  return "?";
}

// A fault armed for the nth matching operation, or for every one.
struct Arm {
  uint64_t countdown = 0;  // 0: not armed
  bool every = false;
  Kind kind = Kind::kAny;

  bool Fires(Kind file) {
    if (kind != Kind::kAny && kind != file) return false;
    if (every) return true;
    return countdown != 0 && --countdown == 0;
  }
};

class FaultFs;

}  // namespace

struct FaultInjector::Impl {
  std::unique_ptr<rocksdb::Env> mem_env;  // kMemory: holds the files
  std::shared_ptr<FaultFs> fs;
  std::unique_ptr<rocksdb::Env> env;  // what the store opens with

  std::mutex mu;
  // Everything below: GUARDED_BY(mu).
  Arm write_fault, sync_fault;
  bool fail_creation = false;
  uint64_t failures = 0;
  bool dead = false;
  uint64_t cut_countdown = 0;
  uint64_t ops = 0;
  bool torn_tail = false;
  std::mt19937_64 rng;
  std::string last_cut;

  struct FileState {
    uint64_t size = 0;    // bytes appended
    uint64_t synced = 0;  // bytes on stable storage
    // The directory entry was synced since the file was created (or renamed
    // to this name). If not, a cut loses the name: the file disappears, or
    // the file it replaced comes back (`replaced`).
    bool durable_name = true;
    std::optional<std::string> replaced;
  };
  std::map<std::string, FileState> files;

  // The gate every mutating operation passes. Counts it, refuses it when
  // the power is (or now goes) off, or fails it as armed.
  IOStatus Admit(Op op, const std::string& path) {
    ++ops;
    if (dead) return IOStatus::IOError("power is cut (injected): " + path);
    if (cut_countdown != 0 && --cut_countdown == 0) {
      dead = true;
      last_cut = std::string(OpName(op)) + " " + KindName(KindOf(path));
      return IOStatus::IOError("power cut (injected) at " + path);
    }
    const Kind kind = KindOf(path);
    if ((op == Op::kWrite && write_fault.Fires(kind)) ||
        (op == Op::kSync && sync_fault.Fires(kind))) {
      ++failures;
      return op == Op::kWrite && write_fault.every
                 ? IOStatus::NoSpace("no space left (injected): " + path)
                 : IOStatus::IOError("injected I/O error: " + path);
    }
    if (op == Op::kCreate && fail_creation && kind != Kind::kAny) {
      ++failures;
      return IOStatus::IOError("injected file creation failure: " + path);
    }
    return IOStatus::OK();
  }

  void Appended(const std::string& path, uint64_t end) {
    FileState& st = files[path];
    st.size = std::max(st.size, end);
  }

  // What a machine finds after the power came back: every file as it was
  // synced. REQUIRES: mu held, nothing open on the files.
  void DropUnsynced();
};

namespace {

class FaultFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultFile(std::unique_ptr<FSWritableFile> f, std::string path, FaultInjector::Impl& inj)
      : FSWritableFileOwnerWrapper(std::move(f)), path_(std::move(path)), inj_(inj) {}

  IOStatus Append(const Slice& data, const IOOptions& o, IODebugContext* d) override {
    return Write(data.size(), [&] { return target()->Append(data, o, d); });
  }
  IOStatus Append(const Slice& data, const IOOptions& o, const rocksdb::DataVerificationInfo& v,
                  IODebugContext* d) override {
    return Write(data.size(), [&] { return target()->Append(data, o, v, d); });
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& o,
                            IODebugContext* d) override {
    return WriteAt(offset + data.size(),
                   [&] { return target()->PositionedAppend(data, offset, o, d); });
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& o,
                            const rocksdb::DataVerificationInfo& v, IODebugContext* d) override {
    return WriteAt(offset + data.size(),
                   [&] { return target()->PositionedAppend(data, offset, o, v, d); });
  }
  IOStatus Truncate(uint64_t size, const IOOptions& o, IODebugContext* d) override {
    std::lock_guard lock(inj_.mu);
    IOStatus s = inj_.Admit(Op::kWrite, path_);
    if (s.ok()) s = target()->Truncate(size, o, d);
    if (s.ok()) {
      auto& st = inj_.files[path_];
      st.size = size;
      st.synced = std::min(st.synced, size);
    }
    return s;
  }
  IOStatus Sync(const IOOptions& o, IODebugContext* d) override {
    return SyncWith([&] { return target()->Sync(o, d); });
  }
  IOStatus Fsync(const IOOptions& o, IODebugContext* d) override {
    return SyncWith([&] { return target()->Fsync(o, d); });
  }
  // Neither makes data durable; refused only while the power is off.
  IOStatus Flush(const IOOptions& o, IODebugContext* d) override {
    std::lock_guard lock(inj_.mu);
    return inj_.dead ? IOStatus::IOError("power is cut (injected)") : target()->Flush(o, d);
  }
  IOStatus RangeSync(uint64_t offset, uint64_t n, const IOOptions& o, IODebugContext* d) override {
    std::lock_guard lock(inj_.mu);
    return inj_.dead ? IOStatus::IOError("power is cut (injected)")
                     : target()->RangeSync(offset, n, o, d);
  }

 private:
  template <typename F>
  IOStatus Write(uint64_t n, F&& write) {
    std::lock_guard lock(inj_.mu);
    IOStatus s = inj_.Admit(Op::kWrite, path_);
    if (s.ok()) s = write();
    if (s.ok()) inj_.Appended(path_, inj_.files[path_].size + n);
    return s;
  }
  template <typename F>
  IOStatus WriteAt(uint64_t end, F&& write) {
    std::lock_guard lock(inj_.mu);
    IOStatus s = inj_.Admit(Op::kWrite, path_);
    if (s.ok()) s = write();
    if (s.ok()) inj_.Appended(path_, end);
    return s;
  }
  template <typename F>
  IOStatus SyncWith(F&& sync) {
    std::lock_guard lock(inj_.mu);
    IOStatus s = inj_.Admit(Op::kSync, path_);
    if (s.ok()) s = sync();
    if (s.ok()) {
      auto& st = inj_.files[path_];
      st.synced = st.size;
    }
    return s;
  }

  const std::string path_;
  FaultInjector::Impl& inj_;
};

class FaultDir : public rocksdb::FSDirectoryWrapper {
 public:
  FaultDir(std::unique_ptr<FSDirectory> d, std::string path, FaultInjector::Impl& inj)
      : FSDirectoryWrapper(std::move(d)), path_(TrimSlash(std::move(path))), inj_(inj) {}

  IOStatus Fsync(const IOOptions& o, IODebugContext* d) override {
    return SyncWith([&] { return FSDirectoryWrapper::Fsync(o, d); });
  }
  IOStatus FsyncWithDirOptions(const IOOptions& o, IODebugContext* d,
                               const rocksdb::DirFsyncOptions& opts) override {
    return SyncWith([&] { return FSDirectoryWrapper::FsyncWithDirOptions(o, d, opts); });
  }

 private:
  template <typename F>
  IOStatus SyncWith(F&& sync) {
    std::lock_guard lock(inj_.mu);
    IOStatus s = inj_.Admit(Op::kSync, path_);
    if (s.ok()) s = sync();
    if (!s.ok()) return s;
    for (auto& [name, st] : inj_.files) {
      if (DirOf(name) == path_) {
        st.durable_name = true;
        st.replaced.reset();
      }
    }
    return s;
  }

  const std::string path_;
  FaultInjector::Impl& inj_;
};

class FaultFs : public rocksdb::FileSystemWrapper {
 public:
  FaultFs(const std::shared_ptr<rocksdb::FileSystem>& base, FaultInjector::Impl& inj)
      : FileSystemWrapper(base), inj_(inj) {}
  const char* Name() const override { return "KeiretsuFaultFs"; }

  IOStatus NewWritableFile(const std::string& f, const FileOptions& fo,
                           std::unique_ptr<FSWritableFile>* r, IODebugContext* d) override {
    std::lock_guard lock(inj_.mu);
    IOStatus s = inj_.Admit(Op::kCreate, f);
    if (!s.ok()) return s;
    const bool existed = target()->FileExists(f, fo.io_options, d).ok();
    s = target()->NewWritableFile(f, fo, r, d);
    if (!s.ok()) return s;
    auto& st = inj_.files[f];
    st.size = st.synced = 0;
    if (!existed) st.durable_name = false;
    *r = std::make_unique<FaultFile>(std::move(*r), f, inj_);
    return s;
  }
  IOStatus ReopenWritableFile(const std::string& f, const FileOptions& fo,
                              std::unique_ptr<FSWritableFile>* r, IODebugContext* d) override {
    std::lock_guard lock(inj_.mu);
    IOStatus s = inj_.Admit(Op::kCreate, f);
    if (s.ok()) s = target()->ReopenWritableFile(f, fo, r, d);
    if (!s.ok()) return s;
    if (!inj_.files.count(f)) {
      uint64_t size = 0;
      (void)target()->GetFileSize(f, fo.io_options, &size, d);
      inj_.files[f] = {size, size, true, std::nullopt};
    }
    *r = std::make_unique<FaultFile>(std::move(*r), f, inj_);
    return s;
  }
  IOStatus ReuseWritableFile(const std::string& f, const std::string& old, const FileOptions& fo,
                             std::unique_ptr<FSWritableFile>* r, IODebugContext* d) override {
    std::lock_guard lock(inj_.mu);
    IOStatus s = inj_.Admit(Op::kCreate, f);
    if (s.ok()) s = target()->ReuseWritableFile(f, old, fo, r, d);
    if (!s.ok()) return s;
    inj_.files.erase(old);
    inj_.files[f] = {0, 0, false, std::nullopt};
    *r = std::make_unique<FaultFile>(std::move(*r), f, inj_);
    return s;
  }
  IOStatus NewRandomRWFile(const std::string& f, const FileOptions& fo,
                           std::unique_ptr<rocksdb::FSRandomRWFile>* r,
                           IODebugContext* d) override {
    std::lock_guard lock(inj_.mu);
    IOStatus s = inj_.Admit(Op::kCreate, f);
    return s.ok() ? target()->NewRandomRWFile(f, fo, r, d) : s;
  }
  IOStatus NewDirectory(const std::string& name, const IOOptions& o,
                        std::unique_ptr<FSDirectory>* r, IODebugContext* d) override {
    IOStatus s = target()->NewDirectory(name, o, r, d);
    if (s.ok()) *r = std::make_unique<FaultDir>(std::move(*r), name, inj_);
    return s;
  }
  IOStatus DeleteFile(const std::string& f, const IOOptions& o, IODebugContext* d) override {
    std::lock_guard lock(inj_.mu);
    IOStatus s = inj_.Admit(Op::kDelete, f);
    if (s.ok()) s = target()->DeleteFile(f, o, d);
    if (s.ok()) inj_.files.erase(f);
    return s;
  }
  IOStatus RenameFile(const std::string& src, const std::string& dst, const IOOptions& o,
                      IODebugContext* d) override {
    std::lock_guard lock(inj_.mu);
    IOStatus s = inj_.Admit(Op::kRename, dst);
    if (!s.ok()) return s;
    // Until the directory is synced, a cut brings back what `dst` held.
    std::optional<std::string> replaced;
    auto old = inj_.files.find(dst);
    if (old != inj_.files.end() && !old->second.durable_name) {
      replaced = old->second.replaced;
    } else if (target()->FileExists(dst, o, d).ok()) {
      std::string held;
      if (rocksdb::ReadFileToString(target(), dst, &held).ok()) replaced = std::move(held);
    }
    s = target()->RenameFile(src, dst, o, d);
    if (!s.ok()) return s;
    FaultInjector::Impl::FileState st;
    if (auto it = inj_.files.find(src); it != inj_.files.end()) {
      st = it->second;
      inj_.files.erase(it);
    } else {
      uint64_t size = 0;
      (void)target()->GetFileSize(dst, o, &size, d);
      st.size = st.synced = size;
    }
    st.durable_name = false;
    st.replaced = std::move(replaced);
    inj_.files[dst] = std::move(st);
    return s;
  }
  IOStatus LinkFile(const std::string& src, const std::string& dst, const IOOptions& o,
                    IODebugContext* d) override {
    std::lock_guard lock(inj_.mu);
    IOStatus s = inj_.Admit(Op::kCreate, dst);
    return s.ok() ? target()->LinkFile(src, dst, o, d) : s;
  }
  IOStatus Truncate(const std::string& f, size_t size, const IOOptions& o,
                    IODebugContext* d) override {
    std::lock_guard lock(inj_.mu);
    IOStatus s = inj_.Admit(Op::kWrite, f);
    return s.ok() ? target()->Truncate(f, size, o, d) : s;
  }
  IOStatus CreateDir(const std::string& dir, const IOOptions& o, IODebugContext* d) override {
    std::lock_guard lock(inj_.mu);
    IOStatus s = inj_.Admit(Op::kOther, dir);
    return s.ok() ? target()->CreateDir(dir, o, d) : s;
  }
  IOStatus CreateDirIfMissing(const std::string& dir, const IOOptions& o,
                              IODebugContext* d) override {
    std::lock_guard lock(inj_.mu);
    IOStatus s = inj_.Admit(Op::kOther, dir);
    return s.ok() ? target()->CreateDirIfMissing(dir, o, d) : s;
  }
  IOStatus DeleteDir(const std::string& dir, const IOOptions& o, IODebugContext* d) override {
    std::lock_guard lock(inj_.mu);
    IOStatus s = inj_.Admit(Op::kOther, dir);
    return s.ok() ? target()->DeleteDir(dir, o, d) : s;
  }

 private:
  FaultInjector::Impl& inj_;
};

// RocksDB waits a second after a failed compaction before it retries; with
// the power cut, the database is about to close and nothing is retried, so
// the wait only slows a test's close down: skipped.
class FaultEnv : public rocksdb::EnvWrapper {
 public:
  FaultEnv(std::unique_ptr<rocksdb::Env> target, FaultInjector::Impl& inj)
      : EnvWrapper(std::move(target)), inj_(inj) {}
  const char* Name() const override { return "KeiretsuFaultEnv"; }
  void SleepForMicroseconds(int micros) override {
    {
      std::lock_guard lock(inj_.mu);
      if (inj_.dead) return;
    }
    target()->SleepForMicroseconds(micros);
  }

 private:
  FaultInjector::Impl& inj_;
};

}  // namespace

void FaultInjector::Impl::DropUnsynced() {
  rocksdb::FileSystem* base = fs->target();
  const IOOptions o;
  for (auto& [name, st] : files) {
    if (!st.durable_name) {
      if (st.replaced)
        (void)rocksdb::WriteStringToFile(base, *st.replaced, name, /*should_sync=*/true);
      else
        (void)base->DeleteFile(name, o, nullptr);
      continue;
    }
    uint64_t keep = st.synced;
    if (torn_tail && KindOf(name) == Kind::kWal && st.size > st.synced)
      keep += rng() % (st.size - st.synced + 1);
    uint64_t actual = 0;
    if (!base->GetFileSize(name, o, &actual, nullptr).ok() || actual <= keep) continue;
    if (mem_env) {
      (void)base->Truncate(name, static_cast<size_t>(keep), o, nullptr);
    } else {  // the operating system's file system does not offer Truncate
      std::error_code ec;
      std::filesystem::resize_file(name, keep, ec);
    }
  }
  files.clear();  // what is left is durable
}

FaultInjector::FaultInjector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FaultInjector::~FaultInjector() = default;

std::shared_ptr<FaultInjector> FaultInjector::Create(Medium medium) {
  auto impl = std::make_unique<Impl>();
  std::shared_ptr<rocksdb::FileSystem> base = rocksdb::FileSystem::Default();
  if (medium == Medium::kMemory) {
    impl->mem_env.reset(rocksdb::NewMemEnv(rocksdb::Env::Default()));
    base = impl->mem_env->GetFileSystem();
  }
  impl->fs = std::make_shared<FaultFs>(base, *impl);
  impl->env = std::make_unique<FaultEnv>(rocksdb::NewCompositeEnv(impl->fs), *impl);
  return std::shared_ptr<FaultInjector>(new FaultInjector(std::move(impl)));
}

rocksdb::Env* FaultInjectorAccess::Env(FaultInjector& f) {
  return f.impl_->env.get();
}

void FaultInjector::FailNthWrite(uint64_t n, FileKind kind) {
  std::lock_guard lock(impl_->mu);
  impl_->write_fault = Arm{n, false, kind};
}
void FaultInjector::FailNthSync(uint64_t n, FileKind kind) {
  std::lock_guard lock(impl_->mu);
  impl_->sync_fault = Arm{n, false, kind};
}
void FaultInjector::FailEverySync(FileKind kind) {
  std::lock_guard lock(impl_->mu);
  impl_->sync_fault = Arm{0, true, kind};
}
void FaultInjector::FailEveryWrite(FileKind kind) {
  std::lock_guard lock(impl_->mu);
  impl_->write_fault = Arm{0, true, kind};
}
void FaultInjector::FailFileCreation() {
  std::lock_guard lock(impl_->mu);
  impl_->fail_creation = true;
}
void FaultInjector::Clear() {
  std::lock_guard lock(impl_->mu);
  impl_->write_fault = impl_->sync_fault = Arm{};
  impl_->fail_creation = false;
}
uint64_t FaultInjector::failures_injected() const {
  std::lock_guard lock(impl_->mu);
  return impl_->failures;
}

void FaultInjector::PowerCut() {
  std::lock_guard lock(impl_->mu);
  if (!impl_->dead) impl_->last_cut = "between operations";
  impl_->dead = true;
}
std::string FaultInjector::last_cut() const {
  std::lock_guard lock(impl_->mu);
  return impl_->last_cut;
}
void FaultInjector::PowerCutAt(uint64_t n) {
  std::lock_guard lock(impl_->mu);
  impl_->cut_countdown = n;
}
void FaultInjector::SetTornTail(bool on, uint64_t seed) {
  std::lock_guard lock(impl_->mu);
  impl_->torn_tail = on;
  impl_->rng.seed(seed);
}
bool FaultInjector::power_cut() const {
  std::lock_guard lock(impl_->mu);
  return impl_->dead;
}
void FaultInjector::PowerOn() {
  std::lock_guard lock(impl_->mu);
  if (impl_->dead) impl_->DropUnsynced();
  impl_->dead = false;
  impl_->cut_countdown = 0;
  impl_->write_fault = impl_->sync_fault = Arm{};
  impl_->fail_creation = false;
}
uint64_t FaultInjector::mutating_ops() const {
  std::lock_guard lock(impl_->mu);
  return impl_->ops;
}

}  // namespace keiretsu::storage
