// Private: conversions between the ledger's domain types and the API's
// protobuf messages, status code mapping, page tokens and watch cursors.
// Pure functions; thread-safe.
#pragma once

#include <grpcpp/support/status.h>

#include <map>
#include <string>
#include <string_view>

#include "keiretsu/common/status.h"
#include "keiretsu/node/ledger.h"
#include "keiretsu/protocol/balance.h"
#include "keiretsu/protocol/entry.h"
#include "keiretsu/protocol/genesis.h"
#include "keiretsu/v1/api.pb.h"

namespace keiretsu::api {

// Our Code to the gRPC code of the same meaning (server.h lists them); the
// message passes through unchanged.
grpc::Status ToGrpc(const Status& status);
grpc::StatusCode GrpcCode(Code code);

// The names of the network's members, founders and admitted firms alike,
// by id: what views show beside a key. A value: take one per call (or per
// batch of a stream), so a firm admitted meanwhile is named in the next.
class FirmNames {
 public:
  explicit FirmNames(std::shared_ptr<const node::Ledger::MemberNameMap> names)
      : names_(std::move(names)) {}
  static FirmNames Of(const node::Ledger& ledger) { return FirmNames(ledger.MemberNames()); }

  // The member's name, or the key's short hex for a firm that is none.
  std::string NameOf(const PublicKey& key) const;
  // Sets `out`'s key, and its name when the firm is a member.
  void Fill(const PublicKey& key, keiretsu::v1::Firm* out) const;

 private:
  std::shared_ptr<const node::Ledger::MemberNameMap> names_;  // never null
};

// Decodes a record this node stored (verified when it arrived, so the
// signature is not checked again, nor membership: its author or
// counterparty may have been admitted after the genesis). Errors:
// kCorruption.
Result<protocol::SignedEntry> DecodeStored(ByteView record, const protocol::Genesis& genesis);

void FillEntryView(const FirmNames& names, const protocol::SignedEntry& entry, bool effective,
                   keiretsu::v1::EntryView* out);

// The balance change an entry causes, if any.
bool FillBalanceChange(const FirmNames& names, const protocol::Entry& entry,
                       keiretsu::v1::BalanceChange* out);

// ListEntries page tokens: opaque to clients, but checked here. A token
// binds the network, the feed and the next seq, with a check value, so a
// token that was altered, comes from another network or names another
// feed is refused (kInvalidArgument) rather than silently misread.
std::string EncodePageToken(const NetworkId& network, const PublicKey& author, uint64_t next_seq);
Result<uint64_t> DecodePageToken(const NetworkId& network, const PublicKey& author,
                                 std::string_view token);

// Caller-supplied text made safe to echo in an error message: quoted, on
// one line, control characters, quotes, backslashes and non-ASCII bytes
// escaped (\n, \", \\, \xNN), cut after `max_bytes` bytes of input with
// "... (N bytes)" appended.
std::string Quoted(std::string_view value, size_t max_bytes = 64);

// Watch cursors: the decimal position in this node's applied-entry log.
// Errors: kInvalidArgument when not a number or beyond `last`.
Result<uint64_t> ParseCursor(std::string_view cursor, uint64_t last);

}  // namespace keiretsu::api
