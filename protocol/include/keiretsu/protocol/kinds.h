// The entry kinds: the one list, and the shape every kind's description
// takes (docs/PROTOCOL.md "Protocol v2", docs/ARCHITECTURE.md "Adding an
// entry kind").
//
// A kind is described once:
//  - one line in KEIRETSU_ENTRY_KINDS below: its body type, its tag (the
//    kind byte on the wire; never reused) and its name;
//  - its body struct in keiretsu/protocol/kinds/<name>.h;
//  - its behaviour in protocol/src/kinds/<name>.cc: the specialisation
//    KindOps<Body> (encode, decode, stateless rules, parties and the
//    author's role, effects, display).
// Everything else is generated from the list (BodyKind, Body, the kind
// names, the decoder's dispatch) or visits Body exhaustively, so the
// compiler names every place a new kind must be handled.
#pragma once

#include <bitset>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "keiretsu/common/bytes.h"
#include "keiretsu/common/id32.h"
#include "keiretsu/common/status.h"
#include "keiretsu/protocol/effects.h"
#include "keiretsu/protocol/kinds/accept.h"
#include "keiretsu/protocol/kinds/claim.h"
#include "keiretsu/protocol/kinds/clearing_propose.h"
#include "keiretsu/protocol/kinds/clearing_vote.h"
#include "keiretsu/protocol/kinds/decline.h"
#include "keiretsu/protocol/kinds/leave.h"
#include "keiretsu/protocol/kinds/obligation.h"
#include "keiretsu/protocol/kinds/propose.h"
#include "keiretsu/protocol/kinds/release.h"
#include "keiretsu/protocol/kinds/rotate.h"
#include "keiretsu/protocol/kinds/vote.h"

// X(BodyType, tag, "name"), in tag order. Tags 1-5 are protocol v1; 6-9
// are protocol v2's governance and key rotation (docs/PROTOCOL.md 19);
// 10-11 its consent-based clearing (docs/PROTOCOL.md 20).
#define KEIRETSU_ENTRY_KINDS(X)              \
  X(Claim, 1, "claim")                       \
  X(Accept, 2, "accept")                     \
  X(Decline, 3, "decline")                   \
  X(Obligation, 4, "obligation")             \
  X(Release, 5, "release")                   \
  X(Propose, 6, "propose")                   \
  X(Vote, 7, "vote")                         \
  X(Leave, 8, "leave")                       \
  X(Rotate, 9, "rotate")                     \
  X(ClearingPropose, 10, "clearing-propose") \
  X(ClearingVote, 11, "clearing-vote")

namespace keiretsu::protocol {

// Body kind bytes on the wire; never reused.
enum class BodyKind : uint8_t {
#define KEIRETSU_KIND_ENUM(T, tag, name) k##T = tag,
  KEIRETSU_ENTRY_KINDS(KEIRETSU_KIND_ENUM)
#undef KEIRETSU_KIND_ENUM
};

namespace detail {
template <class First, class... Bodies>
struct BodyVariant {
  using type = std::variant<Bodies...>;
};
}  // namespace detail

// The decoded body of an entry: exactly one of the known kinds.
#define KEIRETSU_KIND_TYPE(T, tag, name) , T
using Body = detail::BodyVariant<void KEIRETSU_ENTRY_KINDS(KEIRETSU_KIND_TYPE)>::type;
#undef KEIRETSU_KIND_TYPE

// The kinds this build knows, in tag order (what the handshake announces).
inline constexpr uint8_t kKnownKinds[] = {
#define KEIRETSU_KIND_TAG(T, tag, name) tag,
    KEIRETSU_ENTRY_KINDS(KEIRETSU_KIND_TAG)
#undef KEIRETSU_KIND_TAG
};

// The tag of body type T, at compile time.
template <class T>
struct KindTagOf;
#define KEIRETSU_KIND_TAG_OF(T, tag, name)            \
  template <>                                         \
  struct KindTagOf<T> {                               \
    static constexpr BodyKind value = BodyKind::k##T; \
  };
KEIRETSU_ENTRY_KINDS(KEIRETSU_KIND_TAG_OF)
#undef KEIRETSU_KIND_TAG_OF
template <class T>
constexpr BodyKind KindTag() {
  return KindTagOf<T>::value;
}

// True when `tag` is a kind this build can decode.
bool IsKnownKind(uint8_t tag);

// A set of kind tags: the kinds a node applies (its own, or fewer to act as
// an older version would) or a peer speaks (from its handshake).
class KindSet {
 public:
  KindSet() = default;
  // Every kind this build knows (kKnownKinds).
  static KindSet All();
  static KindSet Of(std::span<const uint8_t> tags);
  bool Has(uint8_t tag) const { return bits_.test(tag); }
  void Add(uint8_t tag) { bits_.set(tag); }
  void Remove(uint8_t tag) { bits_.reset(tag); }
  std::vector<uint8_t> Tags() const;  // ascending
  friend bool operator==(const KindSet&, const KindSet&) = default;

 private:
  std::bitset<256> bits_;
};
BodyKind KindOf(const Body& body);
std::string_view KindName(BodyKind kind);  // "claim", "accept", ...

// Who authors a kind, relative to the firms its body names. v1 kinds are
// bilateral: the author is the creditor or the debtor and the body names
// the other side. Governance and rotation kinds are authored by a member
// on its own behalf and name no counterparty (kMember). Clearing kinds are
// authored by a participant of a multi-party set-off (kParticipant): the
// firms they name are checked by the clearing outcome, not as parties.
enum class AuthorRole : uint8_t { kCreditor, kDebtor, kMember, kParticipant };

// The parties of a body besides its author. Every firm in `named` must be a
// member (stratum 2) and none may be the author (stratum 1). `named` views
// the body it came from; empty for kMember kinds (a key a governance body
// names, such as an admitted firm's, is not a party).
struct Parties {
  AuthorRole author_role;
  std::span<const PublicKey> named;
};

// What a body shows people (API EntryView, CLI): unset fields are zero or
// empty.
struct BodySummary {
  uint64_t amount = 0;
  std::string_view unit;
  std::string_view memo;
  const EntryId* claim_id = nullptr;
};

struct Entry;

// One kind's description: KindOps<Body>, declared for every kind of the
// list below and defined in protocol/src/kinds/<name>.cc, where a missing
// function is a link error. Its members:
//   Encode(body, w)      the body's canonical bytes (after the kind byte);
//   Decode(r)            reads a body; the caller checks that the reader
//                        ended exactly at the end of the content.
//                        Errors: kInvalidArgument;
//   CheckBody(body, author)  stateless rules (stratum 1): well-formed on
//                        its own and given its author's id, needs no
//                        other entry and no membership.
//                        Errors: kInvalidArgument naming the rule;
//   PartiesOf(body)      the author's role and the firms the body names;
//   Effects(e, body, id, out)  appends what the entry does once effective
//                        (stratum 3);
//   Summary(body)        what people are shown.
template <class T>
struct KindOps;
#define KEIRETSU_KIND_OPS(T, tag, name)                                                         \
  template <>                                                                                   \
  struct KindOps<T> {                                                                           \
    static void Encode(const T& body, ByteWriter& w);                                           \
    static Result<T> Decode(ByteReader& r);                                                     \
    static Status CheckBody(const T& body, const PublicKey& author);                            \
    static Parties PartiesOf(const T& body);                                                    \
    static void Effects(const Entry& entry, const T& body, const EntryId& id, EffectList& out); \
    static BodySummary Summary(const T& body);                                                  \
  };
KEIRETSU_ENTRY_KINDS(KEIRETSU_KIND_OPS)
#undef KEIRETSU_KIND_OPS

// Dispatch over the variant: one KindOps per alternative.
Parties PartiesOf(const Body& body);
BodySummary SummaryOf(const Body& body);

}  // namespace keiretsu::protocol
