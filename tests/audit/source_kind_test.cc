// The audit's v2 pre-scan reads an entry's kind byte straight from a chunk
// of the usual shape (Source::NextKind, tools/audit/src/source.cc) instead
// of decoding it. For every chunk, usual or not, well-formed or damaged, it
// must give what the full decode (Source::Next) gives: the kind byte of an
// entry's record, none for anything else.
#include <gtest/gtest.h>

#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "keiretsu/v1/api.pb.h"
#include "tools/audit/src/source.h"

namespace keiretsu::audit {
namespace {

std::string Frame(const std::string& body) {
  const auto n = static_cast<uint32_t>(body.size());
  std::string out{static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                  static_cast<char>(n)};
  return out + body;
}

// A record of `size` bytes whose kind byte (if it has one) is `kind`.
std::string Record(size_t size, uint8_t kind) {
  std::string r(size, '\x5a');
  if (size > kKindOffset) r[kKindOffset] = static_cast<char>(kind);
  return r;
}

std::string EntryChunk(const std::string& record) {
  v1::ExportChunk c;
  c.mutable_entry()->set_record(record);
  return c.SerializeAsString();
}

// What the full decode says, then what the pre-scan says, of one chunk.
std::pair<std::optional<uint8_t>, std::optional<uint8_t>> BothKinds(const std::string& body) {
  std::istringstream a(Frame(body)), b(Frame(body));
  auto full = MakeExportSource(a);
  auto scan = MakeExportSource(b);
  Item item;
  auto more = full->Next(&item);
  EXPECT_TRUE(more.ok() && *more);
  std::optional<uint8_t> from_next;
  if (item.kind == Item::Kind::kEntry && item.record.size() > kKindOffset)
    from_next = item.record[kKindOffset];
  std::optional<uint8_t> from_scan;
  auto more_scan = scan->NextKind(&from_scan);
  EXPECT_TRUE(more_scan.ok() && *more_scan);
  return {from_next, from_scan};
}

TEST(AuditSourceKind, AUsualEntryChunkGivesItsKindByte) {
  auto [full, scan] = BothKinds(EntryChunk(Record(200, 7)));
  EXPECT_EQ(full, std::optional<uint8_t>(7));
  EXPECT_EQ(scan, full);
}

TEST(AuditSourceKind, ARecordTooShortForAKindGivesNone) {
  auto [full, scan] = BothKinds(EntryChunk(Record(kKindOffset, 7)));
  EXPECT_FALSE(full.has_value());
  EXPECT_EQ(scan, full);
}

TEST(AuditSourceKind, AHeaderChunkGivesNone) {
  v1::ExportChunk c;
  c.mutable_header()->set_format_version(1);
  auto [full, scan] = BothKinds(c.SerializeAsString());
  EXPECT_FALSE(full.has_value());
  EXPECT_EQ(scan, full);
}

// Chunks that are not of the usual shape go through the full decode, so
// both agree whatever the decode makes of them.
TEST(AuditSourceKind, UnusualAndDamagedChunksAgreeWithTheFullDecode) {
  const std::string rec = Record(200, 9), other = Record(200, 3);
  const std::string usual = EntryChunk(rec);  // 12 cb 01, then 0a c8 01 and the record
  ASSERT_EQ(usual.size(), 206u);
  std::vector<std::string> bodies;
  // The record field twice inside the entry.
  bodies.push_back(std::string("\x12\x96\x03", 3) + std::string("\x0a\xc8\x01", 3) + rec +
                   std::string("\x0a\xc8\x01", 3) + other);
  // An unknown field after the record.
  bodies.push_back(std::string("\x12\xcd\x01", 3) + std::string("\x0a\xc8\x01", 3) + rec +
                   std::string("\x28\x01", 2));
  // The entry's length one short, and one long, of what follows.
  bodies.push_back(std::string("\x12\xca\x01", 3) + usual.substr(3));
  bodies.push_back(std::string("\x12\xcc\x01", 3) + usual.substr(3));
  // A varint that does not end.
  bodies.push_back(std::string("\x12\xff\xff\xff\xff\xff", 6));
  // A non-minimal length (two bytes for 203): the same message to protobuf.
  bodies.push_back(std::string("\x12\xcb\x81\x00", 4) + usual.substr(3));
  // Nothing at all, and the checkpoint field with an entry's bytes.
  bodies.push_back("");
  bodies.push_back(std::string("\x22") + usual.substr(1));
  for (size_t i = 0; i < bodies.size(); ++i) {
    auto [full, scan] = BothKinds(bodies[i]);
    EXPECT_EQ(scan, full) << "chunk " << i;
  }
}

}  // namespace
}  // namespace keiretsu::audit
