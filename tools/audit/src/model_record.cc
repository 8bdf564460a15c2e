// One record for the v2 reference model: docs/PROTOCOL.md 5, 18.3, 19.3, 20.2.
#include "keiretsu/audit/model_record.h"

#include <algorithm>

#include "keiretsu/crypto/hash.h"
#include "keiretsu/protocol/balance.h"
#include "keiretsu/protocol/governance.h"
#include "keiretsu/protocol/limits.h"

namespace keiretsu::audit {
namespace {

constexpr size_t kHeaderBytes = 114;
constexpr uint8_t kTagPropose = static_cast<uint8_t>(protocol::BodyKind::kPropose);
constexpr uint8_t kTagVote = static_cast<uint8_t>(protocol::BodyKind::kVote);
constexpr uint8_t kTagLeave = static_cast<uint8_t>(protocol::BodyKind::kLeave);
constexpr uint8_t kTagRotate = static_cast<uint8_t>(protocol::BodyKind::kRotate);
constexpr size_t kSignatureBytes = 64;

// v1 body rules 1-2 (19.3 rule 7): seq >= 1, prev zero exactly at seq 1.
Status CheckSeqAndPrev(uint64_t seq, const EntryId& prev) {
  if (seq == 0) return InvalidArgument("seq must be at least 1");
  if (seq == 1 && !prev.IsZero()) return InvalidArgument("seq 1 must name a zero prev");
  if (seq > 1 && prev.IsZero()) return InvalidArgument("seq above 1 must name its prev");
  return Status::Ok();
}

// Decodes a governance body of type T from `body` (everything after the
// kind byte) and checks its stateless rules; the body must end exactly at
// the end of the content.
template <class T>
Status DecodeGovernance(ByteView body, const PublicKey& author, std::optional<T>* out) {
  ByteReader r(body);
  auto decoded = protocol::KindOps<T>::Decode(r);
  if (!decoded.ok()) return decoded.status();
  if (!r.ok()) return InvalidArgument("body truncated");
  if (r.remaining() != 0)
    return InvalidArgument(std::to_string(r.remaining()) + " trailing bytes after the body");
  *out = std::move(decoded).value();
  return protocol::KindOps<T>::CheckBody(**out, author);
}

}  // namespace

ParsedRecord ParseModelRecord(ByteView record, const NetworkId& network) {
  ParsedRecord out;
  auto refuse = [&](protocol::Fault f, std::string why) {
    out.fault = f;
    out.why = std::move(why);
    return std::move(out);
  };
  if (record.size() > protocol::kMaxEntryBytes)
    return refuse(protocol::Fault::kMalformed,
                  "entry is " + std::to_string(record.size()) + " bytes, more than 1024");
  if (record.size() < kHeaderBytes + kSignatureBytes)
    return refuse(protocol::Fault::kMalformed,
                  "entry truncated: " + std::to_string(record.size()) + " bytes");
  ByteView content = record.first(record.size() - kSignatureBytes);
  ByteReader r(content);
  if (uint8_t version = r.U8(); version != protocol::kEntryVersion)
    return refuse(protocol::Fault::kMalformed,
                  "unsupported entry version " + std::to_string(version));
  NetworkId net{r.H32()};
  PublicKey author{r.H32()};
  uint64_t seq = r.U64();
  EntryId prev{r.H32()};
  (void)r.U64();  // timestamp
  out.kind_tag = r.U8();
  out.claimed.emplace(author, seq);
  if (net != network)
    return refuse(protocol::Fault::kWrongNetwork,
                  "entry belongs to network " + net.Short() + ", not this one");

  protocol::ModelRecord m;
  m.author = author;
  m.feed.id = EntryId{crypto::Blake2b256(content)};
  m.feed.seq = seq;
  m.feed.prev = prev;
  m.feed.content.assign(content.begin(), content.end());
  std::copy(record.end() - kSignatureBytes, record.end(), m.feed.signature.begin());
  ByteView body = content.subspan(kHeaderBytes);
  Status rules = CheckSeqAndPrev(seq, prev);
  switch (out.kind_tag) {
    case kTagPropose: {
      std::optional<protocol::Propose> p;
      Status s = DecodeGovernance(body, author, &p);
      if (rules.ok()) rules = s;
      if (p && s.ok()) m.governance = *p;
      break;
    }
    case kTagVote: {
      std::optional<protocol::Vote> v;
      Status s = DecodeGovernance(body, author, &v);
      if (rules.ok()) rules = s;
      if (v && s.ok()) m.governance = *v;
      break;
    }
    case kTagLeave: {
      std::optional<protocol::Leave> l;
      Status s = DecodeGovernance(body, author, &l);
      if (rules.ok()) rules = s;
      m.feed.leave = l.has_value() && s.ok();
      break;
    }
    case kTagRotate: {
      std::optional<protocol::Rotate> rot;
      Status s = DecodeGovernance(body, author, &rot);
      if (rules.ok()) rules = s;
      // A decoded rotate is kept even when it breaks a rule: the walk must
      // still see which key it names to decide who signed it (19.5).
      if (rot) m.feed.rotate = *rot;
      break;
    }
    default: {
      if (!protocol::IsKnownKind(out.kind_tag))
        return refuse(protocol::Fault::kUnknownKind,
                      "entry " + author.Short() + "/" + std::to_string(seq) + " has kind " +
                          std::to_string(out.kind_tag) + ", which this auditor does not know");
      // Kinds 1-5 and 10-11: the entry codec's decoder and stateless rules; the
      // signature is the walk's business.
      protocol::RecordCheck c =
          protocol::CheckFeedLocal(record, network, protocol::InceptionKeys{}, false);
      if (c.fault == protocol::Fault::kNone) {
        const protocol::Body& b = c.signed_entry->entry.body;
        m.debt = protocol::EffectOf(c.signed_entry->entry);
        // Kinds 10-11 (20): without them the outcome sees no proposal and
        // the balances miss every committed set-off.
        if (const auto* cp = std::get_if<protocol::ClearingPropose>(&b)) m.clearing = *cp;
        if (const auto* cv = std::get_if<protocol::ClearingVote>(&b)) m.clearing = *cv;
      } else if (c.fault == protocol::Fault::kInvalidBody) {
        if (rules.ok()) rules = c.status;
      } else {
        return refuse(c.fault, c.status.message());
      }
    }
  }
  m.feed.body_status = rules;
  out.model = std::move(m);
  return out;
}

}  // namespace keiretsu::audit
