#include "keiretsu/storage/disk_space.h"

#include <sys/statvfs.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace keiretsu::storage {

Result<DiskSpace> StatFilesystem(const std::string& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0)
    return IOError("cannot measure free space of " + path + ": " + std::strerror(errno));
  DiskSpace out;
  out.available_bytes = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  out.total_bytes = static_cast<uint64_t>(st.f_blocks) * st.f_frsize;
  return out;
}

std::string FormatBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (v >= 1024 && unit + 1 < std::size(kUnits)) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, v < 10 ? "%.1f %s" : "%.0f %s", v, kUnits[unit]);
  return buf;
}

Status CheckReserve(const std::string& path, const DiskSpace& space, uint64_t reserve_bytes) {
  if (space.available_bytes >= reserve_bytes) return Status::Ok();
  return ResourceExhausted("disk space low: the filesystem holding " + path + " has " +
                           FormatBytes(space.available_bytes) + " free, below the reserve of " +
                           FormatBytes(reserve_bytes) +
                           "; writes are refused until space is freed (reads go on)");
}

}  // namespace keiretsu::storage
