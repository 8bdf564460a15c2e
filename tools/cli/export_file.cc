#include "export_file.h"

#include <array>
#include <cstdint>
#include <string>
#include "keiretsu/proto/strict_parse.h"

namespace keiretsu::cli {

Status WriteExportChunk(std::ostream& out, const keiretsu::v1::ExportChunk& chunk) {
  size_t n = chunk.ByteSizeLong();
  if (n > kMaxExportChunkBytes)
    return ResourceExhausted("export chunk of " + std::to_string(n) + " bytes exceeds the " +
                             std::to_string(kMaxExportChunkBytes) + "-byte limit");
  std::string body;
  if (!chunk.SerializeToString(&body)) return Internal("cannot serialize an export chunk");
  std::array<char, 4> len = {static_cast<char>((n >> 24) & 0xff),
                             static_cast<char>((n >> 16) & 0xff),
                             static_cast<char>((n >> 8) & 0xff), static_cast<char>(n & 0xff)};
  out.write(len.data(), len.size());
  out.write(body.data(), static_cast<std::streamsize>(body.size()));
  if (!out) return IOError("write failed");
  return Status::Ok();
}

Result<bool> ReadExportChunk(std::istream& in, keiretsu::v1::ExportChunk* chunk, size_t index) {
  std::array<unsigned char, 4> len{};
  in.read(reinterpret_cast<char*>(len.data()), len.size());
  std::streamsize got = in.gcount();
  if (got == 0 && in.eof()) return false;
  std::string where = "chunk " + std::to_string(index + 1);
  if (got != 4) return InvalidArgument(where + ": file ends inside a length prefix (truncated)");
  uint32_t n = (uint32_t{len[0]} << 24) | (uint32_t{len[1]} << 16) | (uint32_t{len[2]} << 8) |
               uint32_t{len[3]};
  if (n > kMaxExportChunkBytes)
    return InvalidArgument(where + ": length " + std::to_string(n) +
                           " is above the limit; not a keiretsu export or damaged");
  std::string body(n, '\0');
  in.read(body.data(), n);
  if (in.gcount() != static_cast<std::streamsize>(n))
    return InvalidArgument(where + ": file ends inside a chunk (truncated)");
  if (Status s = proto::ParseStrict(body, chunk); !s.ok())
    return InvalidArgument(where + ": not a valid ExportChunk message: " + s.message());
  return true;
}

}  // namespace keiretsu::cli
