#include "node/api/src/views.h"

#include <charconv>

#include "keiretsu/crypto/hash.h"

namespace keiretsu::api {

namespace v1 = ::keiretsu::v1;

grpc::StatusCode GrpcCode(Code code) {
  switch (code) {
    case Code::kOk: return grpc::StatusCode::OK;
    case Code::kInvalidArgument: return grpc::StatusCode::INVALID_ARGUMENT;
    case Code::kNotFound: return grpc::StatusCode::NOT_FOUND;
    case Code::kAlreadyExists: return grpc::StatusCode::ALREADY_EXISTS;
    case Code::kPermissionDenied: return grpc::StatusCode::PERMISSION_DENIED;
    case Code::kUnauthenticated: return grpc::StatusCode::UNAUTHENTICATED;
    case Code::kFailedPrecondition: return grpc::StatusCode::FAILED_PRECONDITION;
    case Code::kResourceExhausted: return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case Code::kCorruption: return grpc::StatusCode::DATA_LOSS;
    case Code::kIOError: return grpc::StatusCode::INTERNAL;
    case Code::kUnavailable: return grpc::StatusCode::UNAVAILABLE;
    case Code::kInternal: return grpc::StatusCode::INTERNAL;
  }
  return grpc::StatusCode::INTERNAL;
}

grpc::Status ToGrpc(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(GrpcCode(status.code()), status.message());
}

std::string FirmNames::NameOf(const PublicKey& key) const {
  auto it = names_->find(key);
  return it != names_->end() ? it->second : key.Short();
}

void FirmNames::Fill(const PublicKey& key, v1::Firm* out) const {
  out->set_public_key(key.Hex());
  if (auto it = names_->find(key); it != names_->end()) out->set_name(it->second);
}

Result<protocol::SignedEntry> DecodeStored(ByteView record, const protocol::Genesis& genesis) {
  // Stratum 1 only: a stored record's author or counterparty may be a firm
  // admitted after the genesis, which genesis membership does not know.
  protocol::RecordCheck check = protocol::CheckFeedLocal(
      record, genesis.network_id(), protocol::InceptionKeys{}, /*verify_signature=*/false);
  if (check.fault != protocol::Fault::kNone)
    return Corruption("stored entry does not decode: " + check.status.message());
  return std::move(*check.signed_entry);
}

void FillEntryView(const FirmNames& names, const protocol::SignedEntry& se, bool effective,
                   v1::EntryView* out) {
  const protocol::Entry& e = se.entry;
  out->set_id(se.id.Hex());
  out->set_author(e.author.Hex());
  out->set_author_name(names.NameOf(e.author));
  out->set_seq(e.seq);
  out->set_prev(e.prev.Hex());
  out->set_timestamp_ms(e.timestamp_ms);
  out->set_kind(std::string(protocol::KindName(protocol::KindOf(e.body))));
  const PublicKey& other = protocol::Counterparty(e.body);
  out->set_counterparty(other.Hex());
  out->set_counterparty_name(names.NameOf(other));
  protocol::BodySummary f = protocol::SummaryOf(e.body);
  out->set_amount(f.amount);
  out->set_unit(std::string(f.unit));
  out->set_memo(std::string(f.memo));
  if (f.claim_id != nullptr) out->set_claim_id(f.claim_id->Hex());
  out->set_effective(effective);
  out->set_record(se.record.data(), se.record.size());
}

bool FillBalanceChange(const FirmNames& names, const protocol::Entry& entry,
                       v1::BalanceChange* out) {
  auto change = protocol::EffectOf(entry);
  if (!change) return false;
  names.Fill(change->debtor, out->mutable_debtor());
  names.Fill(change->creditor, out->mutable_creditor());
  out->set_unit(change->unit);
  out->set_delta(protocol::AmountToString(change->delta));
  return true;
}

namespace {
constexpr uint8_t kPageTokenVersion = 1;
constexpr size_t kPageTokenBody = 1 + 32 + 8;  // version, author, next seq
constexpr size_t kPageTokenCheck = 8;

// The check value: binds the token to this network, so a token is only
// ever read by the kind of node that wrote it. Not a secret: a token grants
// nothing the caller could not ask for with from_seq.
Bytes PageTokenCheck(const NetworkId& network, ByteView body) {
  Bytes msg;
  ByteWriter w(&msg);
  w.Raw("keiretsu/v1/page-token");
  w.Raw(network.View());
  w.Raw(body);
  Hash32 h = crypto::Blake2b256(msg);
  return Bytes(h.begin(), h.begin() + kPageTokenCheck);
}
}  // namespace

std::string EncodePageToken(const NetworkId& network, const PublicKey& author, uint64_t next_seq) {
  Bytes body;
  ByteWriter w(&body);
  w.U8(kPageTokenVersion);
  w.Raw(author.View());
  w.U64(next_seq);
  Bytes check = PageTokenCheck(network, body);
  w.Raw(check);
  return ToHex(body);
}

Result<uint64_t> DecodePageToken(const NetworkId& network, const PublicKey& author,
                                 std::string_view token) {
  auto bytes = FromHex(token);
  if (!bytes || bytes->size() != kPageTokenBody + kPageTokenCheck)
    return InvalidArgument("page_token is not a token this API issued");
  ByteView all(*bytes);
  ByteView body = all.first(kPageTokenBody);
  Bytes check = PageTokenCheck(network, body);
  if (!std::equal(check.begin(), check.end(), all.begin() + kPageTokenBody))
    return InvalidArgument("page_token is damaged or from another network");
  ByteReader r(body);
  uint8_t version = r.U8();
  PublicKey token_author{r.H32()};
  uint64_t seq = r.U64();
  if (version != kPageTokenVersion)
    return InvalidArgument("page_token version " + std::to_string(version) + " is not supported");
  if (token_author != author)
    return InvalidArgument("page_token belongs to the feed of " + token_author.Short() + ", not " +
                           author.Short());
  if (seq == 0) return InvalidArgument("page_token names seq 0");
  return seq;
}

std::string Quoted(std::string_view value, size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "'";
  const size_t shown = std::min(value.size(), max_bytes);
  for (size_t i = 0; i < shown; ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    switch (c) {
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\\': out += "\\\\"; continue;
      case '\'': out += "\\'"; continue;
      default: break;
    }
    if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += "'";
  if (shown < value.size()) out += "... (" + std::to_string(value.size()) + " bytes)";
  return out;
}

Result<uint64_t> ParseCursor(std::string_view cursor, uint64_t last) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(cursor.data(), cursor.data() + cursor.size(), v);
  if (ec != std::errc() || ptr != cursor.data() + cursor.size())
    return InvalidArgument("cursor " + Quoted(cursor, 32) + " is not a cursor from a WatchEvent");
  if (v > last)
    return InvalidArgument("cursor " + std::to_string(v) + " is beyond this node's log (last " +
                           std::to_string(last) +
                           "); cursors are local to the node that issued them");
  return v;
}

}  // namespace keiretsu::api
