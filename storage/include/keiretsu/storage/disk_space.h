// Free space on the filesystem holding a data directory, and the reserve a
// Store keeps below which it refuses writes (docs/OPERATIONS.md "A full
// disk").
//
// RocksDB must never meet a full disk while it writes its log: a write that
// fails half-way leaves the log writer in a state it cannot continue from.
// So the store measures free space before every commit and refuses, with a
// clear kResourceExhausted, while less than the reserve is left; reads go
// on.
//
// Thread-safety: the functions are pure or stateless; a DiskSpaceProbe must
// be callable from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "keiretsu/common/status.h"

namespace keiretsu::storage {

struct DiskSpace {
  uint64_t available_bytes = 0;  // what an unprivileged writer may still use
  uint64_t total_bytes = 0;
};

// Measures the filesystem holding `path`. Errors: kIOError.
using DiskSpaceProbe = std::function<Result<DiskSpace>(const std::string& path)>;

// The real probe: statvfs(2) (f_bavail and f_blocks times f_frsize).
Result<DiskSpace> StatFilesystem(const std::string& path);

// keiretsud's default reserve: room for a flush of the whole memtable
// budget (64 MiB), a preallocated log file and a compaction's output.
inline constexpr uint64_t kDefaultReserveBytes = uint64_t{256} << 20;

// "0 B", "812 KiB", "3.2 MiB", "17.0 GiB": for messages.
std::string FormatBytes(uint64_t bytes);

// OK when `space` leaves at least `reserve_bytes` available; otherwise
// kResourceExhausted naming the path, the free space and the reserve.
Status CheckReserve(const std::string& path, const DiskSpace& space, uint64_t reserve_bytes);

}  // namespace keiretsu::storage
