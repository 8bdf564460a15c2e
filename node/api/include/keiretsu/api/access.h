// Access control for the partner API: bearer tokens mapped to roles.
//
// Every call carries `authorization: Bearer <token>` metadata. The token is
// looked up among the configured ones, compared in constant time, and gives
// the caller a role:
//
//   operator  every method, including writes signed with the node's key
//             (governance writes and Rotate included)
//   auditor   every read method, Export, GetCheckpoint
//   partner   bound to one firm F: GetStatus (without peer details),
//             balances where F is a party, entries F authored or is the
//             counterparty of (lists are filtered, single reads refused),
//             Watch (filtered), GetCheckpoint (heads and digest only, as
//             GetStatus shows them), ListMembers and ListProposals (the
//             membership is every member's business). No writes, no
//             Export, no Import.
//
// Default deny: a method not in the table below refuses every role.
// Missing or unknown tokens are UNAUTHENTICATED; a known role calling a
// method it may not is PERMISSION_DENIED.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keiretsu/common/bytes.h"
#include "keiretsu/common/id32.h"
#include "keiretsu/common/status.h"

namespace keiretsu::api {

enum class Role { kOperator, kAuditor, kPartner };
std::string_view RoleName(Role role);  // "operator", "auditor", "partner"
std::optional<Role> ParseRole(std::string_view name);

// Every method of keiretsu.v1.Ledger, for the access table.
enum class Method {
  kGetStatus,
  kGetBalance,
  kListBalances,
  kClaim,
  kAccept,
  kDecline,
  kRecordObligation,
  kRecordRelease,
  kListPendingClaims,
  kListEntries,
  kGetEntry,
  kWatch,
  kExport,
  kImport,
  kGetCheckpoint,
  kPropose,
  kVote,
  kLeave,
  kRotate,
  kListMembers,
  kListProposals,
  kFindClearing,
  kProposeClearing,
  kListClearings,
  kVoteClearing,
  kWriteBatch,
};
inline constexpr int kMethodCount = static_cast<int>(Method::kWriteBatch) + 1;
std::string_view MethodName(Method method);  // "GetStatus", ...

// True when `role` may call `method` at all (partners are further limited
// to their firm's data inside the method).
bool RoleAllows(Role role, Method method);

// The shortest token accepted: 16 characters. Tokens are secrets that sit in
// a config file; anything shorter is guessable.
inline constexpr size_t kMinTokenLength = 16;

// One configured token.
struct TokenSpec {
  std::string token;  // the secret; never logged
  Role role = Role::kOperator;
  std::optional<PublicKey> firm;  // set exactly for partners
  std::string label;              // where it was configured ("api.tokens[2]"), for logs
};

// Who is calling. `label` identifies the token in logs without revealing it.
struct Principal {
  Role role = Role::kOperator;
  PublicKey firm;  // partners only
  std::string label;
  size_t token = 0;  // which configured token (its index), for per-token limits

  bool is_partner() const { return role == Role::kPartner; }
  // For a partner: whether F is `a` or `b`. Always true for other roles.
  bool MaySee(const PublicKey& a, const PublicKey& b) const {
    return !is_partner() || firm == a || firm == b;
  }
};

// The configured tokens. Immutable after Create; thread-safe.
class AccessPolicy {
 public:
  // Checks the tokens: each at least kMinTokenLength printable ASCII
  // characters without spaces, unique, a firm exactly for partners.
  // Errors: kInvalidArgument naming the token's label (never its value).
  static Result<AccessPolicy> Create(const std::vector<TokenSpec>& tokens);

  // `authorization` is the metadata value, if the call sent one. Compares
  // against every configured token in constant time (BLAKE2b hashes
  // compared with crypto_verify_32, no early exit), so timing reveals
  // neither which token matched nor how much of it.
  // Errors: kUnauthenticated (missing, malformed, unknown).
  Result<Principal> Authenticate(std::optional<std::string_view> authorization) const;

  // Authenticate, then RoleAllows. Errors: kUnauthenticated,
  // kPermissionDenied ("role auditor may not call Claim").
  Result<Principal> Check(std::optional<std::string_view> authorization, Method method) const;

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    Hash32 hash;
    Principal principal;
  };
  std::vector<Entry> entries_;
};

}  // namespace keiretsu::api
