// The export file format (docs/API.md "Export file format"): the chunks of
// the Export stream, in order, each framed as
//
//   4-byte big-endian unsigned length N | N bytes: a serialized ExportChunk
//
// and nothing else (no file header, no trailer; the first chunk is the
// ExportHeader). `keiretsu export` writes it and `keiretsu import` reads it,
// both through the two functions below, so the format lives in one place.
#pragma once

#include <cstddef>
#include <istream>
#include <ostream>

#include "keiretsu/common/status.h"
#include "keiretsu/v1/api.pb.h"

namespace keiretsu::cli {

// No chunk is larger: a header with the largest genesis (1024 members) is
// well under 1 MiB and an entry under 1 KiB. A larger length means a damaged
// or foreign file, refused before anything is allocated.
inline constexpr size_t kMaxExportChunkBytes = 4 << 20;

// Appends one framed chunk. Errors: kResourceExhausted (chunk too large),
// kIOError (the stream failed).
Status WriteExportChunk(std::ostream& out, const keiretsu::v1::ExportChunk& chunk);

// Reads the next framed chunk into `chunk`. Returns true when one was read,
// false at a clean end of input (no bytes left). Errors (kInvalidArgument):
// a truncated length or body, a length above kMaxExportChunkBytes, bytes
// that do not parse as an ExportChunk. `index` (0-based) is for messages.
Result<bool> ReadExportChunk(std::istream& in, keiretsu::v1::ExportChunk* chunk, size_t index);

}  // namespace keiretsu::cli
