// The auditor's inputs: export files and data directories.
#include "tools/audit/src/source.h"

#include <algorithm>
#include <array>
#include <filesystem>

#include <google/protobuf/stubs/logging.h>

#include "keiretsu/proto/strict_parse.h"
#include "keiretsu/v1/api.pb.h"

namespace keiretsu::audit {
namespace {

Bytes ToBytes(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

// A chunk whose fields this version does not know is refused rather than
// half-read: a byte changed in a field tag turns a field into an unknown
// one, and the audit must not read such a chunk as if it were whole.
template <typename M>
bool HasUnknown(const M& m) {
  return !m.GetReflection()->GetUnknownFields(m).empty();
}

// A varint of at most 5 bytes at `p` (advanced past it), below 2^32.
std::optional<uint32_t> Varint32(std::string_view& p) {
  uint64_t v = 0;
  for (int i = 0; i < 5 && !p.empty(); ++i) {
    const auto b = static_cast<uint8_t>(p.front());
    p.remove_prefix(1);
    v |= uint64_t{b & 0x7Fu} << (7 * i);
    if ((b & 0x80) == 0) {
      if (v > UINT32_MAX) return std::nullopt;
      return static_cast<uint32_t>(v);
    }
  }
  return std::nullopt;
}

// The record of an entry chunk written the usual way: ExportChunk field 2
// (entry) holding SignedEntry field 1 (record) and nothing else, each
// length exactly filling what holds it. For exactly these bytes the strict
// decode (Next) yields an entry item with this record; any other chunk
// gives nullopt and is decoded in full.
std::optional<std::string_view> UsualEntryRecord(std::string_view chunk) {
  auto field = [](std::string_view& p, char tag) -> std::optional<std::string_view> {
    if (p.empty() || p.front() != tag) return std::nullopt;
    p.remove_prefix(1);
    std::optional<uint32_t> n = Varint32(p);
    if (!n || *n != p.size()) return std::nullopt;
    return p;
  };
  std::optional<std::string_view> entry = field(chunk, '\x12');  // field 2, length-delimited
  if (!entry) return std::nullopt;
  return field(*entry, '\x0a');  // field 1, length-delimited
}

class ExportSource : public Source {
 public:
  explicit ExportSource(std::istream& in) : in_(in) {}

  Position Tell() const override { return Position{offset_, 0, 0, chunk_}; }

  Status Seek(const Position& pos) override {
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(pos.a));
    if (!in_) return IOError("cannot seek back in the export (is it a regular file?)");
    offset_ = pos.a;
    chunk_ = pos.chunk;
    return Status::Ok();
  }

  Result<bool> Next(Item* item) override {
    KEIRETSU_ASSIGN_OR_RETURN(bool more, ReadFrame());
    if (!more) return false;
    *item = Item{};
    item->chunk = chunk_;
    Decode(item);
    return true;
  }

  Result<bool> NextKind(std::optional<uint8_t>* kind) override {
    KEIRETSU_ASSIGN_OR_RETURN(bool more, ReadFrame());
    *kind = std::nullopt;
    if (!more) return false;
    if (std::optional<std::string_view> record = UsualEntryRecord(body_)) {
      if (record->size() > kKindOffset) *kind = static_cast<uint8_t>((*record)[kKindOffset]);
      return true;
    }
    Item item;
    item.chunk = chunk_;
    Decode(&item);
    if (item.kind == Item::Kind::kEntry && item.record.size() > kKindOffset)
      *kind = item.record[kKindOffset];
    return true;
  }

 private:
  // Reads the next frame into body_; false at the end of the input.
  Result<bool> ReadFrame() {
    std::array<unsigned char, 4> len{};
    in_.read(reinterpret_cast<char*>(len.data()), len.size());
    std::streamsize got = in_.gcount();
    if (got == 0 && in_.eof()) return false;
    const uint64_t index = chunk_ + 1;
    auto where = [&] {  // for messages only
      return "chunk " + std::to_string(index) + " (byte " + std::to_string(offset_) + ")";
    };
    if (in_.bad()) return IOError(where() + ": read failed");
    if (got != 4)
      return InvalidArgument(where() + ": the file ends inside a length prefix (truncated)");
    uint32_t n = (uint32_t{len[0]} << 24) | (uint32_t{len[1]} << 16) | (uint32_t{len[2]} << 8) |
                 uint32_t{len[3]};
    if (n > kMaxChunkBytes)
      return InvalidArgument(where() + ": length " + std::to_string(n) +
                             " is above the 4 MiB limit (damaged, or not a keiretsu export)");
    body_.resize(n);
    in_.read(body_.data(), n);
    if (in_.gcount() != static_cast<std::streamsize>(n))
      return InvalidArgument(where() + ": the file ends inside the chunk (truncated)");
    offset_ += 4 + n;
    chunk_ = index;
    return true;
  }

  void Decode(Item* item) {
    v1::ExportChunk c;
    // A damaged string field (invalid UTF-8) makes protobuf log to stderr as
    // well as fail; the failure is reported here, in the audit's words.
    google::protobuf::LogSilencer quiet;
    // Strictly: a field sent twice, two members of the oneof, a wrong wire
    // type or bad UTF-8 would otherwise be accepted, keeping the last copy
    // (bytes that nobody checks).
    if (Status s = proto::ParseStrict(body_, &c); !s.ok()) {
      item->invalid = "not a valid ExportChunk message: " + s.message();
      return;
    }
    if (HasUnknown(c)) {
      item->invalid = "the chunk holds fields this auditor does not know";
      return;
    }
    switch (c.item_case()) {
      case v1::ExportChunk::kHeader: {
        const v1::ExportHeader& h = c.header();
        if (HasUnknown(h) || HasUnknown(h.genesis())) {
          item->invalid = "the header holds fields this auditor does not know";
          return;
        }
        item->kind = Item::Kind::kHeader;
        item->header = HeaderItem{h.format_version(), ToBytes(h.genesis().canonical()),
                                  h.exported_by(), h.exported_at_unix_ms()};
        return;
      }
      case v1::ExportChunk::kEntry:
        if (HasUnknown(c.entry())) {
          item->invalid = "the entry chunk holds fields this auditor does not know";
          return;
        }
        item->kind = Item::Kind::kEntry;
        item->record = ToBytes(c.entry().record());
        return;
      case v1::ExportChunk::kEvidence: {
        const v1::Evidence& e = c.evidence();
        if (HasUnknown(e)) {
          item->invalid = "the evidence chunk holds fields this auditor does not know";
          return;
        }
        item->kind = Item::Kind::kEvidence;
        item->evidence = EvidenceItem{static_cast<int>(e.kind()), ToBytes(e.author()), e.seq(),
                                      ToBytes(e.first()),         ToBytes(e.second()), e.reason()};
        return;
      }
      case v1::ExportChunk::kCheckpoint: {
        const v1::Checkpoint& k = c.checkpoint();
        if (HasUnknown(k)) {
          item->invalid = "the checkpoint chunk holds fields this auditor does not know";
          return;
        }
        item->kind = Item::Kind::kCheckpoint;
        item->checkpoint =
            CheckpointItem{ToBytes(k.statement()), ToBytes(k.signer()), ToBytes(k.signature())};
        return;
      }
      case v1::ExportChunk::ITEM_NOT_SET:
        item->invalid = "the chunk is empty (no header, entry, evidence or checkpoint)";
        return;
    }
  }

  std::istream& in_;
  uint64_t offset_ = 0;
  uint64_t chunk_ = 0;
  std::string body_;
};

// Records per ReadFeed call: bounded memory, few round trips.
constexpr size_t kReadBatch = 512;

// The seq a record claims (bytes 65..72 of its content), 0 if too short.
// Only used to page through a feed; every record is still checked whole.
uint64_t ClaimedSeq(const Bytes& r) {
  if (r.size() < 73) return 0;
  uint64_t v = 0;
  for (size_t i = 65; i < 73; ++i) v = (v << 8) | r[i];
  return v;
}

}  // namespace

Result<bool> Source::NextKind(std::optional<uint8_t>* kind) {
  Item item;
  KEIRETSU_ASSIGN_OR_RETURN(bool more, Next(&item));
  *kind = std::nullopt;
  if (more && item.kind == Item::Kind::kEntry && item.record.size() > kKindOffset)
    *kind = item.record[kKindOffset];
  return more;
}

std::unique_ptr<Source> MakeExportSource(std::istream& in) {
  return std::make_unique<ExportSource>(in);
}

Result<std::unique_ptr<DataDirSource>> DataDirSource::Open(const std::string& path,
                                                           const protocol::Genesis& genesis) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) return NotFound(path + " is not a directory");
  if (!std::filesystem::exists(std::filesystem::path(path) / "CURRENT", ec))
    return NotFound(path + " holds no keiretsu store (no RocksDB CURRENT file)");
  storage::StoreOptions so;
  so.path = path;
  so.network = genesis.network_id();
  so.create_if_missing = false;
  auto store = storage::Store::Open(so);
  if (!store.ok()) {
    const Status& s = store.status();
    if (s.message().find("lock") != std::string::npos)
      return FailedPrecondition("data directory " + path +
                                " is in use (a running keiretsud holds its lock); stop the "
                                "daemon, or audit an export instead (`keiretsu export`): " +
                                s.message());
    return Status(s.code(), "cannot open data directory " + path + ": " + s.message());
  }
  // Every member's feed, and any other author the store claims to hold
  // (a non-member's feed is itself a problem the audit must show).
  std::vector<PublicKey> authors;
  for (const auto& m : genesis.members()) authors.push_back(m.key);
  for (const auto& [author, st] : (*store)->LoadFeedStates()) authors.push_back(author);
  std::sort(authors.begin(), authors.end());
  authors.erase(std::unique(authors.begin(), authors.end()), authors.end());
  return std::unique_ptr<DataDirSource>(
      new DataDirSource(std::move(store).value(), std::move(authors)));
}

Position DataDirSource::Tell() const {
  return Position{feed_, from_seq_, pos_, chunk_};
}

Status DataDirSource::Seek(const Position& pos) {
  feed_ = pos.a;
  from_seq_ = pos.b;
  pos_ = pos.c;
  chunk_ = pos.chunk;
  loaded_ = false;
  return Status::Ok();
}

Status DataDirSource::Load() {
  KEIRETSU_ASSIGN_OR_RETURN(buffer_, store_->ReadFeed(authors_[feed_], from_seq_, kReadBatch));
  loaded_ = true;
  return Status::Ok();
}

Result<bool> DataDirSource::Next(Item* item) {
  while (feed_ < authors_.size()) {
    if (!loaded_) KEIRETSU_RETURN_IF_ERROR(Load());
    if (pos_ < buffer_.size()) {
      *item = Item{};
      item->kind = Item::Kind::kEntry;
      item->chunk = ++chunk_;
      item->record = buffer_[pos_++];
      return true;
    }
    if (buffer_.size() < kReadBatch) {  // the feed is done
      ++feed_;
      from_seq_ = 1;
    } else {
      // Page on by the seq the last record claims, but always forward, so a
      // store whose records lie about their seq cannot make this loop.
      from_seq_ = std::max(ClaimedSeq(buffer_.back()) + 1, from_seq_ + 1);
    }
    pos_ = 0;
    loaded_ = false;
  }
  if (!evidence_) {
    KEIRETSU_ASSIGN_OR_RETURN(auto ev, store_->ListEvidence());
    evidence_ = std::move(ev);
  }
  size_t i = pos_;
  if (i >= evidence_->size()) return false;
  const storage::Evidence& e = (*evidence_)[i];
  *item = Item{};
  item->kind = Item::Kind::kEvidence;
  item->chunk = ++chunk_;
  item->evidence = EvidenceItem{e.kind == storage::StopReason::kFork ? 1 : 2,
                                Bytes(e.author.bytes.begin(), e.author.bytes.end()),
                                e.seq,
                                e.first,
                                e.second,
                                e.reason};
  ++pos_;
  return true;
}

}  // namespace keiretsu::audit
