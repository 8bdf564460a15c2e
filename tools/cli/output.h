// How the CLI prints: aligned tables for people, JSON for scripts.
//
// --json prints the API's response message in the proto3 JSON mapping
// (field names as in api.proto, zero values included, 64-bit integers as
// strings), one object per line, so `jq` and any JSON library read it and a
// script sees the same fields grpcurl would. Text from the ledger (memos,
// names) is written with control characters replaced: another firm's memo
// must not be able to drive the reader's terminal.
#pragma once

#include <google/protobuf/message.h>

#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keiretsu/v1/api.pb.h"

namespace keiretsu::cli {

// Columns padded to their widest cell, two spaces apart; no trailing spaces.
class Table {
 public:
  explicit Table(std::vector<std::string> headers);
  void Row(std::vector<std::string> cells);  // missing cells print empty
  bool empty() const { return rows_.empty(); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// `text` with control characters (and DEL) replaced by '?', cut to `max`
// characters with "..." when longer (0: no cut).
std::string Printable(std::string_view text, size_t max = 0);

// The proto3 JSON of `message` on one line (no trailing newline).
std::string MessageJson(const google::protobuf::Message& message);

// A JSON string literal, quoted and escaped.
std::string JsonString(std::string_view s);
// {"k":"v",...} from string fields, in the given order.
std::string FlatJson(const std::vector<std::pair<std::string, std::string>>& fields);

// A firm for people: its genesis name, else the first 8 hex of its key.
std::string FirmLabel(const keiretsu::v1::Firm& firm);
std::string FirmLabel(const std::string& key_hex, const std::string& name);
// The first 8 characters of a hex id.
std::string ShortHex(const std::string& hex);

// --- Renderings of API responses for people (views.cc).
void PrintStatus(std::ostream& out, const keiretsu::v1::GetStatusResponse& s);
void PrintBalance(std::ostream& out, const keiretsu::v1::Balance& b);
void PrintBalances(std::ostream& out, const std::string& firm,
                   const keiretsu::v1::ListBalancesResponse& r);
void PrintPending(std::ostream& out, const keiretsu::v1::ListPendingClaimsResponse& r);
void PrintEntries(std::ostream& out, const std::vector<keiretsu::v1::EntryView>& entries);
void PrintEntryDetail(std::ostream& out, const keiretsu::v1::EntryView& e);
void PrintWritten(std::ostream& out, const keiretsu::v1::EntryView& e);
void PrintWatchEvent(std::ostream& out, const keiretsu::v1::WatchEvent& ev);
void PrintImport(std::ostream& out, const keiretsu::v1::ImportResponse& r);
// The epoch line and one row per member of any epoch.
void PrintMembers(std::ostream& out, const keiretsu::v1::ListMembersResponse& r);
// One row per proposal; `members` names the firms a removal names by id
// (may be empty).
void PrintProposals(std::ostream& out, const keiretsu::v1::ListProposalsResponse& r,
                    const keiretsu::v1::ListMembersResponse& members);

}  // namespace keiretsu::cli
