// Canonical encoding and decoding of entries (docs/PROTOCOL.md "Entries"),
// and stratum 1 of record checking (docs/PROTOCOL.md "Protocol v2").
#include <algorithm>

#include "keiretsu/crypto/hash.h"
#include "keiretsu/protocol/entry.h"
#include "keiretsu/protocol/limits.h"

namespace keiretsu::protocol {
namespace {

constexpr std::string_view kSignatureTag = "keiretsu/v1/entry";
constexpr size_t kSignatureSize = 64;
// version + network + author + seq + prev + timestamp + kind
constexpr size_t kHeaderSize = 1 + 32 + 32 + 8 + 32 + 8 + 1;

template <class T>
Result<Body> DecodeAs(ByteReader& r) {
  KEIRETSU_ASSIGN_OR_RETURN(T body, KindOps<T>::Decode(r));
  return Body(std::move(body));
}

// Decodes a body of a known `kind`; the reader must end exactly at its end.
Result<Body> DecodeBody(BodyKind kind, ByteReader& r) {
  Result<Body> body = InvalidArgument("unreachable");
  switch (kind) {
#define KEIRETSU_KIND_DECODE(T, tag, name) \
  case BodyKind::k##T: body = DecodeAs<T>(r); break;
    KEIRETSU_ENTRY_KINDS(KEIRETSU_KIND_DECODE)
#undef KEIRETSU_KIND_DECODE
  }
  if (!body.ok()) return body;
  if (!r.ok()) return InvalidArgument("body truncated");
  if (r.remaining() != 0)
    return InvalidArgument(std::to_string(r.remaining()) + " trailing bytes after the body");
  return body;
}

}  // namespace

bool IsKnownKind(uint8_t tag) {
  return std::find(std::begin(kKnownKinds), std::end(kKnownKinds), tag) != std::end(kKnownKinds);
}

KindSet KindSet::All() {
  return Of(kKnownKinds);
}

KindSet KindSet::Of(std::span<const uint8_t> tags) {
  KindSet s;
  for (uint8_t t : tags) s.Add(t);
  return s;
}

std::vector<uint8_t> KindSet::Tags() const {
  std::vector<uint8_t> out;
  for (size_t t = 0; t < bits_.size(); ++t)
    if (bits_.test(t)) out.push_back(static_cast<uint8_t>(t));
  return out;
}

BodyKind KindOf(const Body& body) {
  return std::visit([](const auto& b) { return KindTag<std::decay_t<decltype(b)>>(); }, body);
}

std::string_view KindName(BodyKind kind) {
  switch (kind) {
#define KEIRETSU_KIND_NAME(T, tag, name) \
  case BodyKind::k##T: return name;
    KEIRETSU_ENTRY_KINDS(KEIRETSU_KIND_NAME)
#undef KEIRETSU_KIND_NAME
  }
  return "unknown";
}

Parties PartiesOf(const Body& body) {
  return std::visit([](const auto& b) { return KindOps<std::decay_t<decltype(b)>>::PartiesOf(b); },
                    body);
}

BodySummary SummaryOf(const Body& body) {
  return std::visit([](const auto& b) { return KindOps<std::decay_t<decltype(b)>>::Summary(b); },
                    body);
}

const PublicKey& Counterparty(const Body& body) {
  static const PublicKey kNone{};
  Parties parties = PartiesOf(body);
  return parties.named.empty() ? kNone : parties.named.front();
}

EffectList EffectsOf(const Entry& entry, const EntryId& id) {
  EffectList out;
  std::visit([&](const auto& b) { KindOps<std::decay_t<decltype(b)>>::Effects(entry, b, id, out); },
             entry.body);
  return out;
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
  std::visit([&](const auto& b) { KindOps<std::decay_t<decltype(b)>>::Encode(b, w); }, e.body);
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

namespace {
// The canonical content of `entry`, its id, and `key`'s signature over it:
// the record. Checks only the size limit: a record every peer would refuse
// as malformed (check 1) is never signed.
Result<SignedEntry> Seal(const Entry& entry, const crypto::SigningKey& key) {
  SignedEntry out;
  out.record = EncodeContent(entry);
  if (out.record.size() + kSignatureSize > kMaxEntryBytes)
    return InvalidArgument("the entry would be " +
                           std::to_string(out.record.size() + kSignatureSize) +
                           " bytes, above the limit of " + std::to_string(kMaxEntryBytes) +
                           " bytes per record (a clearing proposal: at most 9 participants on a "
                           "simple cycle; propose a larger set-off in parts)");
  out.id = EntryId{crypto::Blake2b256(out.record)};
  crypto::Signature sig = key.Sign(SigningMessage(out.record));
  out.record.insert(out.record.end(), sig.begin(), sig.end());
  out.entry = entry;
  return out;
}
}  // namespace

Result<SignedEntry> SignEntry(const Entry& entry, const crypto::SigningKey& key,
                              const Genesis& genesis) {
  if (key.public_key() != entry.author)
    return InvalidArgument("signing key is not the entry's author");
  if (entry.network != genesis.network_id()) return InvalidArgument("entry is for another network");
  KEIRETSU_RETURN_IF_ERROR(CheckRules(entry, genesis));
  return Seal(entry, key);
}

Result<SignedEntry> SignEntryUnder(const Entry& entry, const crypto::SigningKey& key) {
  KEIRETSU_RETURN_IF_ERROR(CheckRules(entry));
  return Seal(entry, key);
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
    case Fault::kUnknownKey: return "unknown-key";
    case Fault::kBadSignature: return "bad-signature";
    case Fault::kUnknownKind: return "unknown-kind";
    case Fault::kUnknownAuthor: return "unknown-author";
    case Fault::kInvalidBody: return "invalid-body";
  }
  return "unknown";
}

bool IsUnattributable(Fault fault) {
  switch (fault) {
    case Fault::kMalformed:
    case Fault::kWrongNetwork:
    case Fault::kUnknownKey:
    case Fault::kBadSignature: return true;
    case Fault::kNone:
    case Fault::kUnknownKind:
    case Fault::kUnknownAuthor:
    case Fault::kInvalidBody: return false;
  }
  return true;
}

RecordCheck CheckFeedLocal(ByteView record, const NetworkId& network, const KeyInForce& keys,
                           bool verify_signature, const KindSet& kinds) {
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
  out.kind_tag = r.U8();
  if (e.network != network)
    return refuse(Fault::kWrongNetwork, "entry belongs to network " + e.network.Short() +
                                            ", not this one (" + network.Short() + ")");
  // "author/seq" for messages, built only when one is: most records pass.
  auto where = [author = e.author, seq = e.seq] {
    return author.Short() + "/" + std::to_string(seq);
  };
  if (verify_signature) {
    std::optional<PublicKey> key = keys.KeyAt(e.author, e.seq);
    if (!key) return refuse(Fault::kUnknownKey, "no key in force is known for entry " + where());
    crypto::Signature sig;
    std::copy(record.end() - kSignatureSize, record.end(), sig.begin());
    if (!crypto::Verify(*key, SigningMessage(content), sig))
      return refuse(Fault::kBadSignature, "signature of entry " + where() + " does not verify");
    out.signer = *key;
  }

  // From here on the author signed these bytes: faults are attributable.
  out.signed_entry.emplace();
  SignedEntry& se = *out.signed_entry;
  se.record.assign(record.begin(), record.end());
  se.id = EntryId{crypto::Blake2b256(content)};
  if (!IsKnownKind(out.kind_tag) || !kinds.Has(out.kind_tag)) {
    se.entry = std::move(e);
    out.fault = Fault::kUnknownKind;
    out.status =
        FailedPrecondition("entry " + where() + " has kind " + std::to_string(out.kind_tag) +
                           ", which this version does not know: upgrade needed");
    return out;
  }
  auto body = DecodeBody(static_cast<BodyKind>(out.kind_tag), r);
  Status rules = body.ok() ? Status::Ok() : body.status();
  if (body.ok()) {
    e.body = std::move(body).value();
    rules = CheckRules(e);
  }
  se.entry = std::move(e);
  if (!rules.ok()) {
    out.fault = Fault::kInvalidBody;
    out.status = rules.WithContext("entry " + where() + " breaks a rule");
  }
  return out;
}

void CheckMembership(RecordCheck& check, const Membership& membership) {
  if (!check.signed_entry || IsUnattributable(check.fault)) return;
  const Entry& e = check.signed_entry->entry;
  auto where = [author = e.author, seq = e.seq] {
    return author.Short() + "/" + std::to_string(seq);
  };
  if (!membership.AuthorIsMember(e.author, e.seq)) {
    check.fault = Fault::kUnknownAuthor;
    check.status = FailedPrecondition("author of entry " + where() +
                                      " is not (yet) known as a member; kept until it is");
    return;
  }
  if (check.fault != Fault::kNone) return;
  for (const PublicKey& named : PartiesOf(e.body).named) {
    if (membership.IsMember(named)) continue;
    check.fault = Fault::kInvalidBody;
    check.status = InvalidArgument("counterparty " + named.Short() + " is not a member")
                       .WithContext("entry " + where() + " breaks a rule");
    return;
  }
}

RecordCheck CheckRecord(ByteView record, const Genesis& genesis, bool verify_signature) {
  RecordCheck check =
      CheckFeedLocal(record, genesis.network_id(), InceptionKeys{}, verify_signature);
  CheckMembership(check, GenesisMembership(genesis));
  return check;
}

}  // namespace keiretsu::protocol
