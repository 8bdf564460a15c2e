#include "keiretsu/crypto/key_file.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace keiretsu::crypto {
namespace {

constexpr std::string_view kHeader = "keiretsu-ed25519-secret-v1 ";
constexpr size_t kFileSize = kHeader.size() + 2 * kSeedSize + 1;  // + '\n'

Status ErrnoStatus(const std::string& what, const std::string& path) {
  int e = errno;
  if (e == ENOENT) return NotFound(what + " " + path + ": no such file");
  if (e == EEXIST) return AlreadyExists(what + " " + path + ": file exists, not overwriting");
  return IOError(what + " " + path + ": " + std::strerror(e));
}

// Writes all of `data`, retrying on short writes and EINTR.
bool WriteAll(int fd, const uint8_t* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// The directory holding `path`, for fsync after a rename.
std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status SyncDir(const std::string& path) {
  const std::string dir = DirOf(path);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open directory", dir);
  bool ok = ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  errno = saved;
  return ok ? Status::Ok() : ErrnoStatus("cannot sync directory", dir);
}

Status RenameSynced(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0)
    return ErrnoStatus("cannot rename " + from + " to", to);
  return SyncDir(to);
}

}  // namespace

Status WriteKeyFile(const std::string& path, const SigningKey& key) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("cannot create key file", path);
  // The hex line is built in secure memory: it is the secret, spelled out.
  SecureBuffer line(kFileSize + 1);
  std::memcpy(line.data(), kHeader.data(), kHeader.size());
  sodium_bin2hex(reinterpret_cast<char*>(line.data() + kHeader.size()), 2 * kSeedSize + 1,
                 key.seed().data(), kSeedSize);
  line.data()[kFileSize - 1] = '\n';
  bool ok = ::fchmod(fd, 0600) == 0 && WriteAll(fd, line.data(), kFileSize) && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    errno = saved;
    return ErrnoStatus("cannot write key file", path);
  }
  return Status::Ok();
}

Result<SigningKey> ReadKeyFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ELOOP)
      return PermissionDenied("key file " + path + " is a symbolic link; point at the file itself");
    return ErrnoStatus("cannot open key file", path);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    Status s = ErrnoStatus("cannot stat key file", path);
    ::close(fd);
    return s;
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return InvalidArgument("key file " + path + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return PermissionDenied("key file " + path + " has mode " + mode +
                            ": group or others may read it; run `chmod 600 " + path +
                            "` if it was not exposed, or make a new key if it was");
  }
  SecureBuffer buf(kFileSize + 1);
  ssize_t n;
  do {
    n = ::read(fd, buf.data(), kFileSize + 1);
  } while (n < 0 && errno == EINTR);
  ::close(fd);
  if (n < 0) return IOError("cannot read key file " + path + ": " + std::strerror(errno));
  auto bad = [&] {
    return InvalidArgument("key file " + path +
                           " is not a keiretsu secret key (expected one line `" +
                           std::string(kHeader) + "<64 hex digits>`)");
  };
  if (static_cast<size_t>(n) != kFileSize && static_cast<size_t>(n) != kFileSize - 1) return bad();
  if (std::memcmp(buf.data(), kHeader.data(), kHeader.size()) != 0) return bad();
  if (static_cast<size_t>(n) == kFileSize && buf.data()[kFileSize - 1] != '\n') return bad();
  SecureBuffer seed(kSeedSize);
  size_t seed_len = 0;
  const char* hex_end = nullptr;
  if (sodium_hex2bin(seed.data(), kSeedSize,
                     reinterpret_cast<const char*>(buf.data() + kHeader.size()), 2 * kSeedSize,
                     nullptr, &seed_len, &hex_end) != 0 ||
      seed_len != kSeedSize) {
    return bad();
  }
  return SigningKey::FromSeed(seed.span());
}

Result<SigningKey> SigningKeyFromSeedHex(std::string_view hex) {
  if (hex.size() != 2 * kSeedSize)
    return InvalidArgument("a secret key is 64 hex digits (a 32-byte seed), got " +
                           std::to_string(hex.size()) + " characters");
  SecureBuffer seed(kSeedSize);
  size_t seed_len = 0;
  const char* hex_end = nullptr;
  if (sodium_hex2bin(seed.data(), kSeedSize, hex.data(), hex.size(), nullptr, &seed_len,
                     &hex_end) != 0 ||
      seed_len != kSeedSize || hex_end != hex.data() + hex.size())
    return InvalidArgument("a secret key is 64 hex digits (a 32-byte seed)");
  return SigningKey::FromSeed(seed.span());
}

std::string StagedKeyPath(const std::string& path) {
  return path + ".next";
}

Status StageKeyFile(const std::string& path, const SigningKey& key) {
  const std::string staged = StagedKeyPath(path);
  const std::string tmp = staged + ".tmp";
  if (::unlink(tmp.c_str()) != 0 && errno != ENOENT)
    return ErrnoStatus("cannot remove stale temporary key file", tmp);
  if (Status s = WriteKeyFile(tmp, key); !s.ok()) return s;
  if (Status s = RenameSynced(tmp, staged); !s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  return Status::Ok();
}

Status PromoteStagedKeyFile(const std::string& path) {
  return RenameSynced(StagedKeyPath(path), path);
}

Status DiscardStagedKeyFile(const std::string& path) {
  const std::string staged = StagedKeyPath(path);
  if (::unlink(staged.c_str()) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return ErrnoStatus("cannot remove staged key file", staged);
  }
  return SyncDir(staged);
}

}  // namespace keiretsu::crypto
