// Private: what the auditor reads, as one sequence of items whatever the
// input: an export file (framed ExportChunks) or a data directory (feeds read
// straight from the store, then its evidence). Sources can seek back to a
// position they reported, so a feed can be read a second time.
#pragma once

#include <istream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "keiretsu/common/bytes.h"
#include "keiretsu/common/id32.h"
#include "keiretsu/common/status.h"
#include "keiretsu/protocol/genesis.h"
#include "keiretsu/storage/store.h"

namespace keiretsu::audit {

// Largest chunk an export may hold (as tools/cli/export_file.h): a header
// with the largest genesis is far below it, an entry below 1 KiB.
inline constexpr size_t kMaxChunkBytes = 4 << 20;

// Where an item starts; only meaningful to the source that made it.
struct Position {
  uint64_t a = 0;
  uint64_t b = 0;
  uint64_t c = 0;
  uint64_t chunk = 0;  // items read before this one
};

struct HeaderItem {
  uint32_t format_version = 0;
  Bytes genesis;
  std::string exported_by;
  uint64_t exported_at_ms = 0;
};

struct EvidenceItem {
  int kind = 0;  // keiretsu.v1.Evidence.Kind: 1 fork, 2 invalid entry
  Bytes author;
  uint64_t seq = 0;
  Bytes first;
  Bytes second;
  std::string reason;
};

struct CheckpointItem {
  Bytes statement;
  Bytes signer;
  Bytes signature;
};

struct Item {
  enum class Kind { kHeader, kEntry, kEvidence, kCheckpoint, kInvalid };
  Kind kind = Kind::kInvalid;
  uint64_t chunk = 0;  // 1-based index in the input
  Bytes record;        // kEntry
  HeaderItem header;
  EvidenceItem evidence;
  CheckpointItem checkpoint;
  std::string invalid;  // kInvalid: why the chunk is unusable
};

class Source {
 public:
  virtual ~Source() = default;
  virtual Position Tell() const = 0;
  virtual Status Seek(const Position& pos) = 0;
  // The next item; false at the end. An error means nothing after this point
  // can be read (a broken frame, an I/O error): kInvalidArgument / kIOError,
  // naming the chunk.
  virtual Result<bool> Next(Item* item) = 0;
  // For the v2 pre-scan: what Next() would read next, reduced to the kind
  // byte of an entry's record (`kind` empty for an item that is not an
  // entry, or a record too short to have one); false at the end, errors as
  // Next(). An export source reads only that byte of an entry chunk of the
  // usual shape (ExportChunk.entry holding SignedEntry.record alone), and
  // decodes any other chunk as Next() does.
  virtual Result<bool> NextKind(std::optional<uint8_t>* kind);
};

// Where the kind byte sits in a record (docs/PROTOCOL.md, entry layout).
inline constexpr size_t kKindOffset = 113;

// Reads the export file format from `in` (seekable for Seek).
std::unique_ptr<Source> MakeExportSource(std::istream& in);

// Reads a data directory through its store: every feed (genesis members
// and any author the store holds a head for), in author order, with
// Store::ReadFeed; then Store::ListEvidence. No header item.
class DataDirSource : public Source {
 public:
  // Opens the store read-only in effect (nothing is written) without
  // creating it. Errors: kNotFound (no store there), kFailedPrecondition
  // (in use by a running daemon, or another network's), kCorruption, kIOError.
  static Result<std::unique_ptr<DataDirSource>> Open(const std::string& path,
                                                     const protocol::Genesis& genesis);
  Position Tell() const override;
  Status Seek(const Position& pos) override;
  Result<bool> Next(Item* item) override;

  storage::Store& store() { return *store_; }

 private:
  DataDirSource(std::unique_ptr<storage::Store> store, std::vector<PublicKey> authors)
      : store_(std::move(store)), authors_(std::move(authors)) {}
  // Reads the batch of feed_ starting at from_seq_ into buffer_.
  Status Load();

  std::unique_ptr<storage::Store> store_;
  std::vector<PublicKey> authors_;
  // Position: a = feed index (authors_.size(): the evidence), b = the seq
  // the current batch was read from (evidence: unused), c = index in the
  // batch (evidence: index in the evidence list).
  size_t feed_ = 0;
  uint64_t from_seq_ = 1;
  size_t pos_ = 0;
  uint64_t chunk_ = 0;
  bool loaded_ = false;
  std::vector<Bytes> buffer_;  // one ReadFeed batch of feed_
  std::optional<std::vector<storage::Evidence>> evidence_;
};

}  // namespace keiretsu::audit
