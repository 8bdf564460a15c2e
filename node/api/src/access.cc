#include "keiretsu/api/access.h"

#include <sodium.h>

#include <set>

#include "keiretsu/crypto/hash.h"

namespace keiretsu::api {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kOperator: return "operator";
    case Role::kAuditor: return "auditor";
    case Role::kPartner: return "partner";
  }
  return "unknown";
}

std::optional<Role> ParseRole(std::string_view name) {
  if (name == "operator") return Role::kOperator;
  if (name == "auditor") return Role::kAuditor;
  if (name == "partner") return Role::kPartner;
  return std::nullopt;
}

std::string_view MethodName(Method method) {
  //
  // GetCheckpoint is open to partners: a checkpoint holds only the network,
  // the feed heads and the digest, which GetStatus already shows them, and
  // a signed one lets a firm hold the node to that view (split views).
  switch (method) {
    case Method::kGetStatus: return "GetStatus";
    case Method::kGetBalance: return "GetBalance";
    case Method::kListBalances: return "ListBalances";
    case Method::kClaim: return "Claim";
    case Method::kAccept: return "Accept";
    case Method::kDecline: return "Decline";
    case Method::kRecordObligation: return "RecordObligation";
    case Method::kRecordRelease: return "RecordRelease";
    case Method::kListPendingClaims: return "ListPendingClaims";
    case Method::kListEntries: return "ListEntries";
    case Method::kGetEntry: return "GetEntry";
    case Method::kWatch: return "Watch";
    case Method::kExport: return "Export";
    case Method::kImport: return "Import";
    case Method::kGetCheckpoint: return "GetCheckpoint";
    case Method::kPropose: return "Propose";
    case Method::kVote: return "Vote";
    case Method::kLeave: return "Leave";
    case Method::kRotate: return "Rotate";
    case Method::kListMembers: return "ListMembers";
    case Method::kListProposals: return "ListProposals";
    case Method::kFindClearing: return "FindClearing";
    case Method::kProposeClearing: return "ProposeClearing";
    case Method::kListClearings: return "ListClearings";
    case Method::kVoteClearing: return "VoteClearing";
    case Method::kWriteBatch: return "WriteBatch";
  }
  return "unknown";
}

bool RoleAllows(Role role, Method method) {
  // Written as an explicit allow-list per role so that a method added later
  // is denied to everyone until someone decides otherwise.
  //
  // GetCheckpoint is open to partners: a checkpoint holds only the network,
  // the feed heads and the digest, which GetStatus already shows them, and
  // a signed one lets a firm hold the node to that view (split views).
  switch (method) {
    case Method::kGetStatus:
    case Method::kGetBalance:
    case Method::kListBalances:
    case Method::kListPendingClaims:
    case Method::kListEntries:
    case Method::kGetEntry:
    case Method::kGetCheckpoint:
    case Method::kListMembers:
    case Method::kListProposals:
    case Method::kFindClearing:
    case Method::kListClearings:
    case Method::kWatch: return true;  // partners are limited to their firm's data inside
    case Method::kExport: return role == Role::kOperator || role == Role::kAuditor;
    case Method::kClaim:
    case Method::kAccept:
    case Method::kDecline:
    case Method::kRecordObligation:
    case Method::kRecordRelease:
    case Method::kWriteBatch:
    case Method::kPropose:
    case Method::kVote:
    case Method::kLeave:
    case Method::kRotate:
    case Method::kProposeClearing:
    case Method::kVoteClearing:
    case Method::kImport: return role == Role::kOperator;
  }
  return false;
}

namespace {
bool IsTokenChar(char c) {
  return c > ' ' && c < 0x7f;
}
}  // namespace

Result<AccessPolicy> AccessPolicy::Create(const std::vector<TokenSpec>& tokens) {
  AccessPolicy policy;
  std::set<Hash32> seen;
  for (const TokenSpec& t : tokens) {
    const std::string& where = t.label.empty() ? std::string("a token") : t.label;
    if (t.token.size() < kMinTokenLength)
      return InvalidArgument(where + ": token must be at least " + std::to_string(kMinTokenLength) +
                             " characters");
    for (char c : t.token)
      if (!IsTokenChar(c))
        return InvalidArgument(where + ": token must be printable ASCII without spaces");
    if ((t.role == Role::kPartner) != t.firm.has_value())
      return InvalidArgument(where + (t.role == Role::kPartner
                                          ? ": a partner token needs a firm"
                                          : ": only partner tokens name a firm"));
    Hash32 h = crypto::Blake2b256(AsBytes(t.token));
    if (!seen.insert(h).second)
      return InvalidArgument(where + ": the same token is configured twice");
    Principal p{t.role, t.firm.value_or(PublicKey{}), where, policy.entries_.size()};
    policy.entries_.push_back(Entry{h, std::move(p)});
  }
  return policy;
}

Result<Principal> AccessPolicy::Authenticate(std::optional<std::string_view> authorization) const {
  if (!authorization || authorization->empty())
    return Unauthenticated("missing bearer token: send metadata `authorization: Bearer <token>`");
  std::string_view v = *authorization;
  constexpr std::string_view kScheme = "bearer ";
  bool scheme_ok = v.size() > kScheme.size();
  for (size_t i = 0; scheme_ok && i < kScheme.size(); ++i)
    scheme_ok = (v[i] | 0x20) == kScheme[i];  // case-insensitive (RFC 6750); ' ' | 0x20 == ' '
  if (!scheme_ok) return Unauthenticated("authorization metadata must be `Bearer <token>`");
  std::string_view token = v.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  // Hashing first makes every comparison 32 bytes whatever the token length.
  Hash32 h = crypto::Blake2b256(AsBytes(token));
  const Entry* match = nullptr;
  for (const Entry& e : entries_) {
    // No early exit: every configured token is compared on every call.
    bool equal = crypto_verify_32(e.hash.data(), h.data()) == 0;
    if (equal && match == nullptr) match = &e;
  }
  if (match == nullptr) return Unauthenticated("unknown bearer token");
  return match->principal;
}

Result<Principal> AccessPolicy::Check(std::optional<std::string_view> authorization,
                                      Method method) const {
  KEIRETSU_ASSIGN_OR_RETURN(Principal p, Authenticate(authorization));
  if (!RoleAllows(p.role, method))
    return PermissionDenied("role " + std::string(RoleName(p.role)) + " may not call " +
                            std::string(MethodName(method)));
  return p;
}

}  // namespace keiretsu::api
