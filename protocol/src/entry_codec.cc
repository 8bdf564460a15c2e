// Canonical encoding and decoding of entries (docs/PROTOCOL.md "Entries").
#include <algorithm>

#include "keiretsu/crypto/hash.h"
#include "keiretsu/protocol/entry.h"
#include "keiretsu/protocol/limits.h"
#include "protocol/src/text_rules.h"

namespace keiretsu::protocol {
namespace {

constexpr std::string_view kSignatureTag = "keiretsu/v1/entry";
constexpr size_t kSignatureSize = 64;
// version + network + author + seq + prev + timestamp + kind
constexpr size_t kHeaderSize = 1 + 32 + 32 + 8 + 32 + 8 + 1;

void Str8(ByteWriter& w, const std::string& s) {
  w.U8(static_cast<uint8_t>(s.size()));
  w.Raw(s);
}
void Str16(ByteWriter& w, const std::string& s) {
  w.U16(static_cast<uint16_t>(s.size()));
  w.Raw(s);
}
std::string ReadStr8(ByteReader& r) {
  return std::string(AsChars(r.Raw(r.U8())));
}
std::string ReadStr16(ByteReader& r) {
  return std::string(AsChars(r.Raw(r.U16())));
}

struct BodyEncoder {
  ByteWriter& w;
  void operator()(const Claim& b) {
    w.Raw(b.debtor.View());
    w.U64(b.amount);
    Str8(w, b.unit);
    Str16(w, b.memo);
  }
  void operator()(const Accept& b) {
    w.Raw(b.claim_id.View());
    w.Raw(b.creditor.View());
    w.U64(b.amount);
    Str8(w, b.unit);
    Str16(w, b.memo);
  }
  void operator()(const Decline& b) {
    w.Raw(b.claim_id.View());
    w.Raw(b.creditor.View());
    Str16(w, b.memo);
  }
  void operator()(const Obligation& b) {
    w.Raw(b.creditor.View());
    w.U64(b.amount);
    Str8(w, b.unit);
    Str16(w, b.memo);
  }
  void operator()(const Release& b) {
    w.Raw(b.debtor.View());
    w.U64(b.amount);
    Str8(w, b.unit);
    Str16(w, b.memo);
  }
};

// Decodes a body of `kind`; the reader must end exactly at its end.
Result<Body> DecodeBody(BodyKind kind, ByteReader& r) {
  Body body;
  switch (kind) {
    case BodyKind::kClaim: {
      Claim b{PublicKey{r.H32()}, r.U64(), ReadStr8(r), ""};
      b.memo = ReadStr16(r);
      body = std::move(b);
      break;
    }
    case BodyKind::kAccept: {
      Accept b;
      b.claim_id = EntryId{r.H32()};
      b.creditor = PublicKey{r.H32()};
      b.amount = r.U64();
      b.unit = ReadStr8(r);
      b.memo = ReadStr16(r);
      body = std::move(b);
      break;
    }
    case BodyKind::kDecline: {
      Decline b;
      b.claim_id = EntryId{r.H32()};
      b.creditor = PublicKey{r.H32()};
      b.memo = ReadStr16(r);
      body = std::move(b);
      break;
    }
    case BodyKind::kObligation: {
      Obligation b{PublicKey{r.H32()}, r.U64(), ReadStr8(r), ""};
      b.memo = ReadStr16(r);
      body = std::move(b);
      break;
    }
    case BodyKind::kRelease: {
      Release b{PublicKey{r.H32()}, r.U64(), ReadStr8(r), ""};
      b.memo = ReadStr16(r);
      body = std::move(b);
      break;
    }
    default: return InvalidArgument("unknown body kind " + std::to_string(static_cast<int>(kind)));
  }
  if (!r.ok()) return InvalidArgument("body truncated");
  if (r.remaining() != 0)
    return InvalidArgument(std::to_string(r.remaining()) + " trailing bytes after the body");
  return body;
}

}  // namespace

BodyKind KindOf(const Body& body) {
  return static_cast<BodyKind>(body.index() + 1);
}

std::string_view KindName(BodyKind kind) {
  switch (kind) {
    case BodyKind::kClaim: return "claim";
    case BodyKind::kAccept: return "accept";
    case BodyKind::kDecline: return "decline";
    case BodyKind::kObligation: return "obligation";
    case BodyKind::kRelease: return "release";
  }
  return "unknown";
}

const PublicKey& Counterparty(const Body& body) {
  return std::visit(
      [](const auto& b) -> const PublicKey& {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, Claim> || std::is_same_v<T, Release>)
          return b.debtor;
        else
          return b.creditor;
      },
      body);
}

Bytes EncodeContent(const Entry& e) {
  Bytes out;
  out.reserve(kHeaderSize + 128);
  ByteWriter w(&out);
  w.U8(kEntryVersion);
  w.Raw(e.network.View());
  w.Raw(e.author.View());
  w.U64(e.seq);
  w.Raw(e.prev.View());
  w.U64(e.timestamp_ms);
  w.U8(static_cast<uint8_t>(KindOf(e.body)));
  std::visit(BodyEncoder{w}, e.body);
  return out;
}

Bytes SigningMessage(ByteView content) {
  Bytes msg;
  msg.reserve(kSignatureTag.size() + content.size());
  ByteWriter w(&msg);
  w.Raw(kSignatureTag);
  w.Raw(content);
  return msg;
}

Result<SignedEntry> SignEntry(const Entry& entry, const crypto::SigningKey& key,
                              const Genesis& genesis) {
  if (key.public_key() != entry.author)
    return InvalidArgument("signing key is not the entry's author");
  if (entry.network != genesis.network_id()) return InvalidArgument("entry is for another network");
  KEIRETSU_RETURN_IF_ERROR(CheckRules(entry, genesis));
  SignedEntry out;
  out.record = EncodeContent(entry);
  out.id = EntryId{crypto::Blake2b256(out.record)};
  crypto::Signature sig = key.Sign(SigningMessage(out.record));
  out.record.insert(out.record.end(), sig.begin(), sig.end());
  out.entry = entry;
  return out;
}

std::optional<EntryId> IdOfRecord(ByteView record) {
  if (record.size() < kHeaderSize + kSignatureSize || record.size() > kMaxEntryBytes)
    return std::nullopt;
  return EntryId{crypto::Blake2b256(record.first(record.size() - kSignatureSize))};
}

std::string_view FaultName(Fault fault) {
  switch (fault) {
    case Fault::kNone: return "none";
    case Fault::kMalformed: return "malformed";
    case Fault::kWrongNetwork: return "wrong-network";
    case Fault::kUnknownAuthor: return "unknown-author";
    case Fault::kBadSignature: return "bad-signature";
    case Fault::kInvalidBody: return "invalid-body";
  }
  return "unknown";
}

RecordCheck CheckRecord(ByteView record, const Genesis& genesis, bool verify_signature) {
  RecordCheck out;
  auto refuse = [&](Fault f, std::string msg) {
    out.fault = f;
    out.status = f == Fault::kBadSignature ? Unauthenticated(std::move(msg))
                                           : InvalidArgument(std::move(msg));
    return std::move(out);
  };
  if (record.size() > kMaxEntryBytes)
    return refuse(Fault::kMalformed, "entry is " + std::to_string(record.size()) +
                                         " bytes, more than the limit of " +
                                         std::to_string(kMaxEntryBytes));
  if (record.size() < kHeaderSize + kSignatureSize)
    return refuse(Fault::kMalformed, "entry truncated: " + std::to_string(record.size()) +
                                         " bytes, shorter than any entry");
  ByteView content = record.first(record.size() - kSignatureSize);
  ByteReader r(content);
  uint8_t version = r.U8();
  if (version != kEntryVersion)
    return refuse(Fault::kMalformed, "unsupported entry version " + std::to_string(version));
  Entry e;
  e.network = NetworkId{r.H32()};
  e.author = PublicKey{r.H32()};
  e.seq = r.U64();
  e.prev = EntryId{r.H32()};
  e.timestamp_ms = r.U64();
  auto kind = static_cast<BodyKind>(r.U8());
  if (e.network != genesis.network_id())
    return refuse(Fault::kWrongNetwork, "entry belongs to network " + e.network.Short() +
                                            ", not this one (" + genesis.network_id().Short() +
                                            ")");
  if (!genesis.IsMember(e.author))
    return refuse(Fault::kUnknownAuthor, "author " + e.author.Short() + " is not a member");
  crypto::Signature sig;
  std::copy(record.end() - kSignatureSize, record.end(), sig.begin());
  if (verify_signature && !crypto::Verify(e.author, SigningMessage(content), sig))
    return refuse(Fault::kBadSignature, "signature of entry " + e.author.Short() + "/" +
                                            std::to_string(e.seq) + " does not verify");

  // From here on the author signed these bytes: faults are attributable.
  out.signed_entry.emplace();
  SignedEntry& se = *out.signed_entry;
  se.record.assign(record.begin(), record.end());
  se.id = EntryId{crypto::Blake2b256(content)};
  auto body = DecodeBody(kind, r);
  Status rules = body.ok() ? Status::Ok() : body.status();
  if (body.ok()) {
    e.body = std::move(body).value();
    rules = CheckRules(e, genesis);
  }
  se.entry = std::move(e);
  if (!rules.ok()) {
    out.fault = Fault::kInvalidBody;
    out.status = rules.WithContext("entry " + se.entry.author.Short() + "/" +
                                   std::to_string(se.entry.seq) + " breaks a rule");
  }
  return out;
}

}  // namespace keiretsu::protocol
